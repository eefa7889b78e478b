//! Kinesis Backup's faces over the embeddable core
//! ([`kinesis_backup_core`]), from the top down: the command line ([`cli`])
//! and the API server ([`server`]); the JSON API handlers ([`api`]) and the
//! web pages ([`web`]); sign-in and sessions ([`auth`]); the HTTP plumbing
//! they share ([`http`]); the tenant's database ([`db`]). [`embed`] mounts
//! the backup routes in another axum application. [`conformance`] is the
//! suite `plugin check` runs against any plugin.

pub mod api;
pub mod auth;
pub mod blocking;
pub mod cli;
pub mod conformance;
pub mod db;
pub mod embed;
pub mod http;
pub mod server;
pub mod web;
