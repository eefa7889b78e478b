//! Writes a backup archive: `.env`, every folder and regular file under the
//! content roots, then the manifest, streamed into a tar.gz under a temporary
//! name that is renamed only once the archive is complete and synced. Large
//! files whose start does not compress are stored rather than deflated.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use flate2::Compression;
use tar::{Builder, EntryType, Header};

use super::entry_path::ENV_PATH;
use super::gzip::{CompressibilityProbe, GzipWriter, Packing};
use super::hashing::{Digested, HashingReader, HashingWriter, IO_BUFFER, Progress};
use super::manifest::{MANIFEST_FORMAT, MANIFEST_PATH, Manifest, ManifestFile};
use super::name::{archive_name, partial_name};
use super::read::TAR_BLOCK;
use super::walk::{Found, walk};
use crate::clock::rfc3339;
use crate::error::{PluginError, Result};
use crate::host::Context;

/// The archive a create produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenArchive {
    /// File name inside `backups/`.
    pub name: String,
    /// Size of the archive file.
    pub size: u64,
    /// SHA-256 of the archive file.
    pub sha256: String,
}

/// Deflate level for everything not stored (gzip's default).
const LEVEL: Compression = Compression::new(6);
/// Files smaller than this are deflated without probing: each change of
/// packing costs a few bytes, and deflating them takes little time anyway.
/// Larger files whose start does not compress are stored, which is much
/// faster than searching them for matches and no larger.
const PROBED_FROM: u64 = 128 << 10;

type Gzip = GzipWriter<HashingWriter<BufWriter<File>>>;

/// Writes the archive of backup `id`, created at `created_at`, into
/// `backups/`. Nothing is left behind when it fails.
pub fn write_archive(ctx: Context, id: u64, created_at: i64) -> Result<WrittenArchive> {
    let env =
        ctx.host.read_env().map_err(|e| PluginError::Storage(format!("could not read the tenant's .env: {e}")))?;
    let mut total = env.len() as u64;
    walk(ctx, false, &mut |found| {
        if let Found::File { size, .. } = found {
            total += size;
        }
        Ok(())
    })?;
    let partial = ctx.roots.backups.join(partial_name(id));
    let result = write_partial(ctx, &partial, id, created_at, &env, total).and_then(|digest| {
        let name = archive_name(id, created_at)?;
        let target = ctx.roots.backups.join(&name);
        fs::rename(&partial, &target).map_err(|e| PluginError::io("rename", &partial, &e))?;
        Ok(WrittenArchive { name, size: digest.size, sha256: digest.sha256 })
    });
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result
}

/// Streams everything into `partial`, syncs it, and returns its digest.
fn write_partial(ctx: Context, partial: &Path, id: u64, created_at: i64, env: &[u8], total: u64) -> Result<Digested> {
    let storage = |e: io::Error| PluginError::io("write", partial, &e);
    let file = File::create(partial).map_err(storage)?;
    let sink = HashingWriter::new(BufWriter::with_capacity(IO_BUFFER, file));
    let mut stream = EntryStream::new(GzipWriter::new(sink, LEVEL).map_err(storage)?);
    let progress = Progress::new(ctx.host, total);
    let mtime = u64::try_from(created_at).unwrap_or(0);
    let mut manifest = Manifest {
        format: MANIFEST_FORMAT.to_string(),
        backup_id: id,
        created_at: rfc3339(created_at),
        files: Vec::new(),
        directories: Vec::new(),
    };

    let env_digest = stream
        .append_file(ENV_PATH, env.len() as u64, mtime, env, Some(&progress))
        .map_err(|e| PluginError::Storage(format!("could not add .env to the archive: {e}")))?;
    manifest.files.push(listed(ENV_PATH, env_digest));

    walk(ctx, true, &mut |found| match found {
        Found::Directory { archive_path, mtime } => {
            stream.append_directory(archive_path, mtime).map_err(storage)?;
            manifest.directories.push(archive_path.to_string());
            Ok(())
        }
        Found::File { archive_path, fs_path, size, mtime } => {
            let failed = |e: io::Error| PluginError::Storage(format!("could not back up {}: {e}", fs_path.display()));
            let file = File::open(fs_path).map_err(failed)?;
            let capacity = IO_BUFFER.min(usize::try_from(size).unwrap_or(IO_BUFFER).max(1));
            let source = ExactLength { inner: BufReader::with_capacity(capacity, file), remaining: size };
            let digest = stream.append_file(archive_path, size, mtime, source, Some(&progress)).map_err(failed)?;
            manifest.files.push(listed(archive_path, digest));
            Ok(())
        }
    })?;

    let manifest_json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| PluginError::Storage(format!("could not encode the manifest: {e}")))?;
    stream.append_file(MANIFEST_PATH, manifest_json.len() as u64, mtime, &manifest_json[..], None).map_err(storage)?;

    let (buffered, digest) = stream.finish().map_err(storage)?.finish();
    let file = buffered.into_inner().map_err(|e| storage(e.into_error()))?;
    file.sync_all().map_err(storage)?;
    progress.finish();
    Ok(digest)
}

/// The tar stream of an archive being written. Tar headers are encoded by
/// the `tar` crate; file content is copied here, so that each file's content
/// can be compressed at the level it deserves while headers stay compressed.
struct EntryStream {
    tar: Builder<Gzip>,
    probe: CompressibilityProbe,
    buf: Vec<u8>,
}

impl EntryStream {
    fn new(gzip: Gzip) -> Self {
        EntryStream { tar: Builder::new(gzip), probe: CompressibilityProbe::new(), buf: vec![0; IO_BUFFER] }
    }

    /// Appends a folder entry (`path` without its trailing slash).
    fn append_directory(&mut self, path: &str, mtime: u64) -> io::Result<()> {
        self.tar.get_mut().set_packing(Packing::Deflate)?;
        let mut header = header(EntryType::Directory, 0, mtime);
        self.tar.append_data(&mut header, format!("{path}/"), io::empty())
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
        let gzip = self.tar.get_mut();
        gzip.set_packing(Packing::Deflate)?;
        gzip.write_all(&header_blocks)?;
        gzip.set_packing(content_packing)?;
        let mut reader = HashingReader::new(data, progress);
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

    /// Writes the end-of-archive blocks and ends the gzip stream.
    fn finish(mut self) -> io::Result<HashingWriter<BufWriter<File>>> {
        self.tar.get_mut().set_packing(Packing::Deflate)?;
        self.tar.into_inner()?.finish()
    }
}

/// The blocks tar writes before an entry's content: its header, preceded
/// by a GNU long-name entry when `path` does not fit in the header.
fn header_blocks(header: &mut Header, path: &str) -> io::Result<Vec<u8>> {
    let mut scratch = Builder::new(Vec::new());
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

fn listed(path: &str, digest: Digested) -> ManifestFile {
    ManifestFile { path: path.to_string(), size: digest.size, sha256: digest.sha256 }
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
