//! Kinesis Backup host: runs the sandboxed backup plugin (a WASI preview-2
//! component implementing `kinesis:backup@1.0.0`) for the CLI and the API
//! server.

pub mod model;
pub mod runtime;
pub mod tenants;
pub mod cli;
pub mod server;
