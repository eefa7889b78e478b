//! Readers and writers that compute digests (BLAKE3, SHA-256) and count
//! bytes as data streams through them, and throttled progress reporting.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::resumable_sha256::ResumableSha256;
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

/// Which digests a [`HashingReader`] computes of what passes through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hashes {
    /// SHA-256 (the file hash of manifests in format 1).
    pub sha256: bool,
    /// BLAKE3 (the file hash of manifests in format 2).
    pub blake3: bool,
}

impl Hashes {
    /// BLAKE3 only: what this plugin writes.
    pub const BLAKE3: Hashes = Hashes { sha256: false, blake3: true };
    /// Both, for an archive whose manifest format is not known in advance.
    pub const BOTH: Hashes = Hashes { sha256: true, blake3: true };
}

/// The size of some content and the digests computed of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digested {
    /// Bytes hashed.
    pub size: u64,
    /// Lowercase hex SHA-256, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Lowercase hex BLAKE3, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blake3: Option<String>,
}

/// The digests being computed of a stream.
struct Hasher {
    sha256: Option<Sha256>,
    blake3: Option<Box<blake3::Hasher>>,
    size: u64,
}

impl Hasher {
    fn new(hashes: Hashes) -> Self {
        Hasher {
            sha256: hashes.sha256.then(Sha256::new),
            blake3: hashes.blake3.then(|| Box::new(blake3::Hasher::new())),
            size: 0,
        }
    }

    fn update(&mut self, data: &[u8]) {
        if let Some(sha256) = &mut self.sha256 {
            sha256.update(data);
        }
        if let Some(blake3) = &mut self.blake3 {
            blake3.update(data);
        }
        self.size += data.len() as u64;
    }

    fn finish(self) -> Digested {
        Digested {
            size: self.size,
            sha256: self.sha256.map(|h| hex::encode(h.finalize())),
            blake3: self.blake3.map(|h| h.finalize().to_hex().to_string()),
        }
    }
}

/// Hashes (BLAKE3) and counts what is written through it; when it starts
/// an archive, also hashes it with a SHA-256 that can be resumed.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
    archive_sha256: Option<ResumableSha256>,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`; `starts_archive` adds the resumable SHA-256.
    pub fn new(inner: W, starts_archive: bool) -> Self {
        HashingWriter {
            inner,
            hasher: Hasher::new(Hashes::BLAKE3),
            archive_sha256: starts_archive.then(ResumableSha256::new),
        }
    }

    /// Bytes written since the last [`HashingWriter::take_digest`].
    pub fn written(&self) -> u64 {
        self.hasher.size
    }

    /// The digest of what was written since the last call, starting afresh
    /// (the archive's SHA-256 goes on).
    pub fn take_digest(&mut self) -> Digested {
        std::mem::replace(&mut self.hasher, Hasher::new(Hashes::BLAKE3)).finish()
    }

    /// The inner writer and the archive's SHA-256 so far when it starts an
    /// archive.
    pub fn finish(self) -> (W, Option<ResumableSha256>) {
        (self.inner, self.archive_sha256)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        if let Some(sha256) = &mut self.archive_sha256 {
            sha256.update(&buf[..written]);
        }
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
    hasher: Hasher,
    progress: Option<&'p Progress<'p>>,
    failed: bool,
}

impl<'p, R: Read> HashingReader<'p, R> {
    /// Wraps `inner`, computing `hashes`; `progress`, when given, advances
    /// by the bytes read.
    pub fn new(inner: R, hashes: Hashes, progress: Option<&'p Progress<'p>>) -> Self {
        HashingReader { inner, hasher: Hasher::new(hashes), progress, failed: false }
    }

    /// Whether a read of the inner reader failed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Bytes read so far.
    pub fn size(&self) -> u64 {
        self.hasher.size
    }

    /// The reader it wraps.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The digest of everything read.
    pub fn finish(self) -> Digested {
        self.hasher.finish()
    }
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf).inspect_err(|_| self.failed = true)?;
        self.hasher.update(&buf[..read]);
        if let Some(progress) = self.progress {
            progress.advance(read as u64);
        }
        Ok(read)
    }
}

/// Size and SHA-256 of a whole file, read in large pieces; `progress`,
/// when given, advances by the bytes read.
pub fn sha256_file(path: &Path, progress: Option<&Progress>) -> io::Result<(u64, String)> {
    let mut reader = HashingReader::new(File::open(path)?, Hashes { sha256: true, blake3: false }, progress);
    let mut buf = vec![0u8; IO_BUFFER];
    while reader.read(&mut buf)? != 0 {}
    let digest = reader.finish();
    Ok((digest.size, digest.sha256.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_and_reader_agree_with_known_digests() {
        // SHA-256 and BLAKE3 of "abc".
        let sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let blake3 = "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85";
        let mut writer = HashingWriter::new(Vec::new(), true);
        writer.write_all(b"ab").unwrap();
        let first = writer.take_digest();
        writer.write_all(b"c").unwrap();
        assert_eq!(writer.written(), 1);
        let second = writer.take_digest();
        let (bytes, archive_sha256) = writer.finish();
        assert_eq!(bytes, b"abc");
        assert_eq!((first.size, second.size, first.sha256), (2, 1, None));
        assert_eq!(second.blake3.unwrap(), blake3::hash(b"c").to_hex().to_string());
        // The archive's SHA-256 covers every byte, across digests taken.
        assert_eq!(archive_sha256.unwrap().finish(), sha256);
        assert_eq!(blake3::hash(b"abc").to_hex().as_str(), blake3);

        let mut reader = HashingReader::new(&b"abc"[..], Hashes::BOTH, None);
        io::copy(&mut reader, &mut io::sink()).unwrap();
        let digest = reader.finish();
        assert_eq!((digest.sha256.as_deref(), digest.blake3.as_deref()), (Some(sha256), Some(blake3)));
    }
}
