//! Readers and writers that compute SHA-256 and count bytes as data streams
//! through them, and throttled progress reporting.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::host::Host;

/// Buffer size for file reads and writes: WASI calls are expensive, so move
/// data in large pieces.
pub const IO_BUFFER: usize = 1 << 20;
/// Progress is reported at most once per this many bytes.
const PROGRESS_STEP: u64 = 4 << 20;

/// Reports `done` of `total` bytes to the host, at most every 4 MiB (and
/// always at the end).
pub struct Progress<'a> {
    host: &'a dyn Host,
    total: u64,
    done: Cell<u64>,
    reported: Cell<u64>,
}

impl<'a> Progress<'a> {
    /// Starts reporting an operation over `total` bytes.
    pub fn new(host: &'a dyn Host, total: u64) -> Self {
        host.progress(0, total);
        Progress { host, total, done: Cell::new(0), reported: Cell::new(0) }
    }

    /// Counts `bytes` more as done.
    pub fn advance(&self, bytes: u64) {
        let done = self.done.get() + bytes;
        self.done.set(done);
        if done - self.reported.get() >= PROGRESS_STEP {
            self.reported.set(done);
            self.host.progress(done, self.total.max(done));
        }
    }

    /// Reports the final figure.
    pub fn finish(&self) {
        let done = self.done.get();
        self.host.progress(done, self.total.max(done));
    }
}

/// A SHA-256 and the number of bytes it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digested {
    /// Bytes hashed.
    pub size: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
}

/// Hashes and counts what is written through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter { inner, hasher: Sha256::new(), size: 0 }
    }

    /// The inner writer and the digest of everything written.
    pub fn finish(self) -> (W, Digested) {
        let digest = Digested { size: self.size, sha256: hex::encode(self.hasher.finalize()) };
        (self.inner, digest)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.size += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hashes and counts what is read through it, advances an optional
/// [`Progress`], and remembers whether the inner reader failed (so callers
/// can tell a storage fault from damaged content).
pub struct HashingReader<'p, R> {
    inner: R,
    hasher: Sha256,
    size: u64,
    progress: Option<&'p Progress<'p>>,
    failed: bool,
}

impl<'p, R: Read> HashingReader<'p, R> {
    /// Wraps `inner`; `progress`, when given, advances by the bytes read.
    pub fn new(inner: R, progress: Option<&'p Progress<'p>>) -> Self {
        HashingReader { inner, hasher: Sha256::new(), size: 0, progress, failed: false }
    }

    /// Whether a read of the inner reader failed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Bytes read so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The digest of everything read.
    pub fn finish(self) -> Digested {
        Digested { size: self.size, sha256: hex::encode(self.hasher.finalize()) }
    }
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf).inspect_err(|_| self.failed = true)?;
        self.hasher.update(&buf[..read]);
        self.size += read as u64;
        if let Some(progress) = self.progress {
            progress.advance(read as u64);
        }
        Ok(read)
    }
}

/// Size and SHA-256 of a whole file, read in large pieces.
pub fn sha256_file(path: &Path) -> io::Result<(u64, String)> {
    let mut reader = HashingReader::new(File::open(path)?, None);
    let mut buf = vec![0u8; IO_BUFFER];
    while reader.read(&mut buf)? != 0 {}
    let digest = reader.finish();
    Ok((digest.size, digest.sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_and_reader_agree_with_known_digest() {
        // SHA-256 of "abc".
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let mut writer = HashingWriter::new(Vec::new());
        writer.write_all(b"abc").unwrap();
        let (bytes, digest) = writer.finish();
        assert_eq!((bytes.as_slice(), digest.size, digest.sha256.as_str()), (&b"abc"[..], 3, expected));

        let mut reader = HashingReader::new(&b"abc"[..], None);
        io::copy(&mut reader, &mut io::sink()).unwrap();
        assert_eq!(reader.finish().sha256, expected);
    }
}
