//! Free space around a plugin call. A plugin's write error reaches the host
//! only as text, and the operating system's "no space left" often arrives as
//! a plain I/O error inside WebAssembly; so the host measures the free space
//! before a long call and, when the call fails with a storage error while
//! less was free than the call could need, reports a full disk with both
//! figures. A restore is refused up front when the backup's unpacked size
//! (read from the archive's gzip trailer) does not fit.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::error::{OpsError, size_in_words};
use crate::runtime::CallError;
use crate::tenant::files::available_bytes;

/// Free space before a call, and what the call could need.
pub(crate) struct Space {
    place: PathBuf,
    need: u64,
    free: u64,
}

impl Space {
    /// Measures the free space on the filesystem holding `place` for a call
    /// that may need up to `need` bytes.
    pub(crate) fn before(place: &Path, need: u64) -> Space {
        Space { place: place.to_path_buf(), need, free: available_bytes(place).unwrap_or(u64::MAX) }
    }

    fn full(&self, need: String) -> OpsError {
        OpsError::DiskFull { place: self.place.display().to_string(), need, have: size_in_words(self.free) }
    }

    /// Refuses at once when even the least the call needs is not free.
    pub(crate) fn refuse_when_short(&self) -> Result<(), OpsError> {
        if self.free < self.need {
            return Err(self.full(format!("about {}", size_in_words(self.need))));
        }
        Ok(())
    }

    /// `err` as a full disk when it is a storage error and the call could
    /// have needed more than was free (or the plugin says the disk is full).
    pub(crate) fn explain(&self, err: CallError) -> OpsError {
        let storage = matches!(&err, CallError::Storage(_));
        let says_full = matches!(&err, CallError::Storage(m) if m.contains("No space left on device"));
        if says_full || (storage && self.free < self.need) {
            return self.full(format!("up to {}", size_in_words(self.need)));
        }
        OpsError::Plugin(err)
    }
}

/// What restoring `archive` (of `size` bytes) needs at least: its unpacked
/// size as the gzip trailer of its last member records it (modulo 4 GiB),
/// or its own size when that is larger.
pub(crate) fn unpacked_size(archive: &Path, size: u64) -> u64 {
    let trailer = (|| -> std::io::Result<u64> {
        let mut file = std::fs::File::open(archive)?;
        file.seek(SeekFrom::End(-4))?;
        let mut isize = [0u8; 4];
        file.read_exact(&mut isize)?;
        Ok(u64::from(u32::from_le_bytes(isize)))
    })();
    trailer.unwrap_or(0).max(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unpacked_size_comes_from_the_gzip_trailer() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tar.gz");
        let mut bytes = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&(5_000_000u32).to_le_bytes());
        std::fs::write(&archive, &bytes).unwrap();
        assert_eq!(unpacked_size(&archive, 22), 5_000_000);
        assert_eq!(unpacked_size(&dir.path().join("missing"), 7), 7);
    }

    #[test]
    fn a_storage_error_with_too_little_free_space_is_a_full_disk() {
        let dir = tempfile::tempdir().unwrap();
        let space = Space { place: dir.path().to_path_buf(), need: 10 << 20, free: 1 << 20 };
        assert!(matches!(space.explain(CallError::Storage("I/O error".into())), OpsError::DiskFull { .. }));
        assert!(matches!(space.explain(CallError::NotFound("x".into())), OpsError::Plugin(_)));
        assert!(space.refuse_when_short().is_err());
        let roomy = Space { place: dir.path().to_path_buf(), need: 1, free: 10 << 20 };
        assert!(matches!(roomy.explain(CallError::Storage("I/O error".into())), OpsError::Plugin(_)));
    }
}
