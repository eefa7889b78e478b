//! The SHA-256 of what passes through a reader: an archive checked against
//! its record while it is uploaded or fetched, without a second read.

use std::io::Read;

use sha2::{Digest, Sha256};

/// A reader that hashes and counts what is read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    /// Hashes what is read from `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Sha256::new(), bytes: 0 }
    }

    /// The bytes read and their SHA-256 in lowercase hex.
    pub fn finish(self) -> (u64, String) {
        (self.bytes, hex::encode(self.hasher.finalize()))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Whether `(bytes, sha256)` is what `backup` records; the difference in
/// words when not.
pub fn mismatch(found: &(u64, String), backup: &crate::model::Backup) -> Option<String> {
    if found.0 != backup.size {
        return Some(format!("{} bytes where the record says {}", found.0, backup.size));
    }
    (found.1 != backup.sha256).then(|| format!("SHA-256 {} where the record says {}", found.1, backup.sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_through_hashes_and_counts() {
        let mut reader = HashingReader::new(&b"abc"[..]);
        std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        let (bytes, sha) = reader.finish();
        assert_eq!(bytes, 3);
        assert_eq!(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
