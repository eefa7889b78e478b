//! Writes the pieces of a backup archive: a part (`.env` and folders in the
//! first, then whole tar entries of regular files, without the tar end
//! marker, as gzip members of about `piece_target` bytes each, every member
//! a piece that restore can read on its own), and the tail (the manifest and
//! the end marker, as one more gzip member). [`super::join`] puts them
//! together.
//! File content is copied here, so that each file's content can be
//! compressed at the level it deserves while headers stay compressed:
//! large files whose start does not compress are stored rather than
//! deflated.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use flate2::Compression;
use serde::{Deserialize, Serialize};
use tar::{EntryType, Header};

use super::entry_path::ENV_PATH;
use super::gzip::{CompressibilityProbe, GzipWriter, Packing};
use super::hashing::{Digested, Hashes, HashingReader, HashingWriter, IO_BUFFER, Progress};
use super::layout::Piece;
use super::manifest::{MANIFEST_PATH, Manifest, ManifestFile};
use super::plan::{Item, PROBED_FROM, fs_path};
use super::read::TAR_BLOCK;
use super::resumable_sha256::ResumableSha256;
use crate::error::{PluginError, Result};
use crate::host::Context;

/// Deflate level for everything not stored (gzip's default).
const LEVEL: Compression = Compression::new(6);

/// What writing one part produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartWritten {
    /// Every regular file written, with its size and BLAKE3.
    pub files: Vec<ManifestFile>,
    /// Every folder written.
    pub directories: Vec<String>,
    /// The length of the part file.
    pub length: u64,
    /// Its pieces (one gzip member each), offsets from the part's start.
    pub pieces: Vec<Piece>,
    /// For the first part, which starts the archive: the archive's SHA-256
    /// so far, to go on from.
    pub archive_sha256: Option<ResumableSha256>,
}

/// How a part is written.
#[derive(Debug, Clone, Copy)]
pub struct PartSpec<'a> {
    /// What goes in it.
    pub items: &'a [Item],
    /// `.env`, for the first part, which also hashes itself as the start of
    /// the archive.
    pub env: Option<&'a [u8]>,
    /// Modification time of `.env`'s entry.
    pub mtime: u64,
    /// A new piece starts before the next entry once a piece is this long.
    pub piece_target: u64,
}

/// Writes a part into the new file `out`, synced.
pub fn write_part(ctx: Context, out: &Path, spec: PartSpec, progress: &Progress) -> Result<PartWritten> {
    let storage = |e: io::Error| PluginError::io("write", out, &e);
    let file = File::create(out).map_err(storage)?;
    let sink = HashingWriter::new(BufWriter::with_capacity(IO_BUFFER, file), spec.env.is_some());
    let mut stream = EntryStream::new(GzipWriter::new(sink, LEVEL).map_err(storage)?);
    let mut pieces = Vec::new();
    let mut files = Vec::new();
    let mut directories = Vec::new();
    let (env, mtime) = (spec.env, spec.mtime);

    if let Some(env) = env {
        let digest = stream
            .append_file(ENV_PATH, env.len() as u64, mtime, env, Some(progress))
            .map_err(|e| PluginError::Storage(format!("could not add .env to the archive: {e}")))?;
        files.push(ManifestFile::new(ENV_PATH, &digest));
    }
    for item in spec.items {
        if stream.member_length() >= spec.piece_target {
            let sink = stream.end_member().map_err(storage)?;
            stream.begin_member(close_piece(sink, &mut pieces)).map_err(storage)?;
        }
        match item {
            Item::Directory { path, mtime } => {
                stream.append_directory(path, *mtime).map_err(storage)?;
                directories.push(path.clone());
            }
            Item::File { path, mtime, .. } => {
                let source = fs_path(ctx, path)?;
                let failed =
                    |e: io::Error| PluginError::Storage(format!("could not back up {}: {e}", source.display()));
                let file = File::open(&source).map_err(failed)?;
                // The size now, not when the plan was made: the header must
                // match what is read, and a file that changes while it is
                // read is refused.
                let size = file.metadata().map_err(failed)?.len();
                let capacity = IO_BUFFER.min(usize::try_from(size).unwrap_or(IO_BUFFER).max(1));
                let reader = ExactLength { inner: BufReader::with_capacity(capacity, file), remaining: size };
                let digest = stream.append_file(path, size, *mtime, reader, Some(progress)).map_err(failed)?;
                files.push(ManifestFile::new(path, &digest));
            }
        }
    }
    let sink = stream.end_member().map_err(storage)?;
    let (buffered, archive_sha256) = close_piece(sink, &mut pieces).finish();
    let file = buffered.into_inner().map_err(|e| storage(e.into_error()))?;
    file.sync_all().map_err(storage)?;
    let length = pieces.iter().map(|p| p.length).sum();
    Ok(PartWritten { files, directories, length, pieces, archive_sha256 })
}

/// Adds the piece `sink` has written since the last one to `pieces`.
fn close_piece<W: Write>(mut sink: HashingWriter<W>, pieces: &mut Vec<Piece>) -> HashingWriter<W> {
    let digest = sink.take_digest();
    let offset = pieces.last().map_or(0, |p| p.offset + p.length);
    pieces.push(Piece { offset, length: digest.size, blake3: digest.blake3.unwrap_or_default() });
    sink
}

/// The tail of an archive: `manifest` as its last entry, then the tar end
/// marker, as one gzip member.
pub fn tail_bytes(manifest: &Manifest, mtime: u64) -> Result<Vec<u8>> {
    let failed = |e: io::Error| PluginError::Storage(format!("could not write the manifest: {e}"));
    let json = serde_json::to_vec_pretty(manifest)
        .map_err(|e| PluginError::Storage(format!("could not encode the manifest: {e}")))?;
    let mut stream = EntryStream::new(GzipWriter::new(Vec::new(), LEVEL).map_err(failed)?);
    stream.append_file(MANIFEST_PATH, json.len() as u64, mtime, &json[..], None).map_err(failed)?;
    stream.gzip().write_all(&[0; 2 * TAR_BLOCK as usize]).map_err(failed)?;
    stream.end_member().map_err(failed)
}

/// The tar stream of a piece being written, as gzip members. Headers are
/// encoded by the `tar` crate; file content is copied here.
struct EntryStream<W: Write> {
    /// The open member; `None` only between two members.
    gzip: Option<GzipWriter<W>>,
    probe: CompressibilityProbe,
    buf: Vec<u8>,
}

impl<W: Write> EntryStream<W> {
    fn new(gzip: GzipWriter<W>) -> Self {
        EntryStream { gzip: Some(gzip), probe: CompressibilityProbe::new(), buf: vec![0; IO_BUFFER] }
    }

    fn gzip(&mut self) -> &mut GzipWriter<W> {
        self.gzip.as_mut().expect("a gzip member is open between entries")
    }

    /// Ends the open gzip member and returns the writer under it.
    fn end_member(&mut self) -> io::Result<W> {
        let mut gzip = self.gzip.take().expect("a gzip member is open between entries");
        gzip.set_packing(Packing::Deflate)?;
        gzip.finish()
    }

    /// Starts a new gzip member on `inner`.
    fn begin_member(&mut self, inner: W) -> io::Result<()> {
        self.gzip = Some(GzipWriter::new(inner, LEVEL)?);
        Ok(())
    }

    /// Appends a folder entry (`path` without its trailing slash).
    fn append_directory(&mut self, path: &str, mtime: u64) -> io::Result<()> {
        let gzip = self.gzip();
        gzip.set_packing(Packing::Deflate)?;
        let blocks = header_blocks(&mut header(EntryType::Directory, 0, mtime), &format!("{path}/"))?;
        gzip.write_all(&blocks)
    }

    /// Appends a regular file entry read from `data` (exactly `size` bytes)
    /// and returns the digest of its content. Large files whose first bytes
    /// do not compress are stored rather than deflated.
    fn append_file(
        &mut self,
        path: &str,
        size: u64,
        mtime: u64,
        mut data: impl BufRead,
        progress: Option<&Progress>,
    ) -> io::Result<Digested> {
        let content_packing = if size >= PROBED_FROM && !self.probe.compressible(data.fill_buf()?) {
            Packing::Store
        } else {
            Packing::Deflate
        };
        let header_blocks = header_blocks(&mut header(EntryType::Regular, size, mtime), path)?;
        let gzip = self.gzip.as_mut().expect("a gzip member is open between entries");
        gzip.set_packing(Packing::Deflate)?;
        gzip.write_all(&header_blocks)?;
        gzip.set_packing(content_packing)?;
        let mut reader = HashingReader::new(data, Hashes::BLAKE3, progress);
        loop {
            let read = reader.read(&mut self.buf)?;
            if read == 0 {
                break;
            }
            gzip.write_all(&self.buf[..read])?;
        }
        if reader.size() != size {
            return Err(io::Error::other(format!(
                "{path} gave {} bytes, but its tar header says {size}",
                reader.size()
            )));
        }
        gzip.set_packing(Packing::Deflate)?;
        let padding = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
        gzip.write_all(&[0; TAR_BLOCK as usize][..padding as usize])?;
        Ok(reader.finish())
    }
}

impl<W: Write> EntryStream<HashingWriter<W>> {
    /// Bytes of the open member written out so far.
    fn member_length(&self) -> u64 {
        self.gzip.as_ref().map_or(0, |gzip| gzip.get_ref().written())
    }
}

/// The blocks tar writes before an entry's content: its header, preceded
/// by a GNU long-name entry when `path` does not fit in the header.
fn header_blocks(header: &mut Header, path: &str) -> io::Result<Vec<u8>> {
    let mut scratch = tar::Builder::new(Vec::new());
    // Given no content, tar writes only the header blocks: it pads by the
    // content it copied, not by the size the header states.
    scratch.append_data(header, path, io::empty())?;
    // Taking the bytes leaves the builder an empty Vec to write its
    // end-of-archive blocks into when it is dropped.
    Ok(std::mem::take(scratch.get_mut()))
}

fn header(kind: EntryType, size: u64, mtime: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mtime(mtime);
    header.set_mode(if kind == EntryType::Directory { 0o755 } else { 0o644 });
    header
}

/// Yields exactly `remaining` bytes of a file and fails when the file turns
/// out shorter or longer (it changed while it was being read), so the tar
/// header's size is always right.
struct ExactLength<R> {
    inner: R,
    remaining: u64,
}

impl<R: BufRead> BufRead for ExactLength<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let limit = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        let buffered = self.inner.fill_buf()?;
        Ok(&buffered[..buffered.len().min(limit)])
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
        self.remaining = self.remaining.saturating_sub(amount as u64);
    }
}

impl<R: Read> Read for ExactLength<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(changed("grew")),
            };
        }
        let want = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let read = self.inner.read(&mut buf[..want])?;
        if read == 0 && want > 0 {
            return Err(changed("shrank"));
        }
        self.remaining -= read as u64;
        Ok(read)
    }
}

fn changed(how: &str) -> io::Error {
    io::Error::other(format!(
        "the file {how} while it was being backed up; run the backup again when nothing is writing to it"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_exact_length(data: &[u8], size: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        ExactLength { inner: data, remaining: size }.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn exact_length_passes_a_file_of_the_listed_size() {
        assert_eq!(read_exact_length(b"abcd", 4).unwrap(), b"abcd");
        assert_eq!(read_exact_length(b"", 0).unwrap(), b"");
    }

    #[test]
    fn header_blocks_are_what_tar_reads_before_the_content() {
        let long = format!("public/{}/file.txt", "deep".repeat(40));
        for path in ["public/a.txt", long.as_str()] {
            let blocks = header_blocks(&mut header(EntryType::Regular, 3, 7), path).unwrap();
            assert_eq!(blocks.len() as u64 % TAR_BLOCK, 0);
            let mut tar_bytes = blocks;
            tar_bytes.extend_from_slice(b"abc");
            tar_bytes.resize(tar_bytes.len() + TAR_BLOCK as usize - 3 + 2 * TAR_BLOCK as usize, 0);
            let mut archive = tar::Archive::new(&tar_bytes[..]);
            let mut entries = archive.entries().unwrap();
            let mut entry = entries.next().unwrap().unwrap();
            assert_eq!(entry.path_bytes().as_ref(), path.as_bytes());
            let mut content = String::new();
            entry.read_to_string(&mut content).unwrap();
            assert_eq!(content, "abc");
            drop(entry);
            assert!(entries.next().is_none());
        }
    }

    #[test]
    fn exact_length_refuses_files_that_changed() {
        assert!(read_exact_length(b"abcde", 4).unwrap_err().to_string().contains("grew"));
        assert!(read_exact_length(b"abc", 4).unwrap_err().to_string().contains("shrank"));
    }
}
