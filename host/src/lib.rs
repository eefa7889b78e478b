//! Kinesis Backup's faces over the embeddable core
//! ([`kinesis_backup_core`]): the command line ([`cli`]), the HTTP plumbing
//! and API server ([`http`]), the JSON API handlers ([`api`]), the web
//! pages ([`web`]), sign-in ([`auth`]), and the tenant's database ([`db`]),
//! plus [`embed`] for mounting the backup routes in another axum
//! application.

pub mod api;
pub mod auth;
pub mod cli;
pub mod db;
pub mod embed;
pub mod http;
pub mod web;
