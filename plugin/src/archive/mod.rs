//! The archive format: naming, writing, reading and checking backup
//! archives (tar.gz with a manifest), as one piece or as parts written
//! and read by separate instances.

pub mod entry_path;
pub mod extract;
pub mod gzip;
pub mod hashing;
pub mod join;
pub mod layout;
pub mod manifest;
pub mod name;
pub mod plan;
pub mod read;
pub mod resumable_sha256;
pub mod walk;
pub mod write;
