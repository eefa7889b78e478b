//! The embeddable core of Kinesis Backup: everything a server needs to
//! back up and restore a Kinesis tenant with a sandboxed WebAssembly plugin,
//! and nothing of HTTP or the command line.
//!
//! - [`runtime`]: loads a backup plugin (a WASI preview-2 component
//!   implementing `kinesis:backup`) into wasmtime and runs one operation per
//!   fresh, limited instance;
//! - [`tenant`]: the tenant folder (layout, `.env`, settings, lock, restore
//!   journal and recovery);
//! - [`ops`]: the backup operations every face calls (create on a
//!   consistent snapshot, restore with a journaled swap and rollback, list,
//!   update, delete, verify, schedules, the timer's tick);
//! - [`offsite`]: copies of the backups in S3-compatible storage, made by
//!   the host, and fetching them back;
//! - [`model`]: the host's types, shared by all of the above.
//!
//! See `docs/embedding.md` for loading the plugin inside another server.

#[doc(hidden)]
pub mod crash;
pub mod model;
pub mod offsite;
pub mod ops;
pub mod runtime;
pub mod tenant;
