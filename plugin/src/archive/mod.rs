//! The archive format: naming, writing, reading and checking backup
//! archives (tar.gz with a manifest).

pub mod entry_path;
pub mod gzip;
pub mod hashing;
pub mod manifest;
pub mod name;
pub mod read;
pub mod walk;
pub mod write;
