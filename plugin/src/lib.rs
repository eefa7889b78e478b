//! The default Kinesis backup plugin: a WASI preview-2 component that
//! implements the `kinesis:backup@1.1.0` contract (`wit/v1.1.0/backup.wit`),
//! or `kinesis:backup@1.0.0` (`wit/v1.0.0/backup.wit`) when built with the
//! feature `contract-1-0`.
//!
//! Every operation is plain Rust over a [`host::Host`] (the imported host
//! functions) and [`host::Roots`] (the four folders), so the same code runs
//! inside the component and in native unit tests. The WIT glue lives in
//! `component` and is only compiled for `wasm32`.

#![warn(missing_docs)]

pub mod archive;
pub mod backups;
pub mod catalog;
pub mod clock;
pub mod cron_expr;
pub mod error;
pub mod fast_write;
pub mod folders;
pub mod host;
pub mod input;
pub mod jobs;
pub mod records;
pub mod restore;
pub mod schedule;
pub mod verify;

#[cfg(target_arch = "wasm32")]
mod component;

#[cfg(test)]
mod tests;
