//! Reads a backup archive once, streaming, and checks everything about it:
//! every entry's type and path, duplicates, the end of the tar and gzip
//! streams, trailing data, the archive's SHA-256 and the manifest. What the
//! entries hold goes to an [`ExtractSink`]: restore stages it, verify
//! discards it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::GzDecoder;
use tar::{Archive, EntryType};

use super::entry_path::{EntryKind, EntryPath, check_entry_path};
use super::hashing::{Digested, HashingReader, IO_BUFFER, Progress};
use super::manifest::Manifest;
use crate::error::{PluginError, Result};
use crate::host::Context;
use crate::records::Backup;

/// Largest `.env` an archive may hold.
pub const MAX_ENV_BYTES: u64 = 1 << 20;
/// Largest manifest an archive may hold (it is parsed in memory).
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// Size of a tar block: headers and padded content fill whole blocks, and
/// a tar stream ends with two zero blocks.
pub const TAR_BLOCK: u64 = 512;

/// Receives the folders and file contents of an archive as it is read.
pub trait ExtractSink {
    /// A folder entry.
    fn directory(&mut self, path: &EntryPath) -> Result<()>;
    /// A regular file of `size` bytes starts (not called for the manifest).
    fn begin_file(&mut self, path: &EntryPath, size: u64) -> Result<()>;
    /// The next piece of the current file.
    fn write(&mut self, chunk: &[u8]) -> Result<()>;
    /// The current file is complete.
    fn end_file(&mut self) -> Result<()>;
}

/// A sink that keeps nothing (for verify).
pub struct Discard;

impl ExtractSink for Discard {
    fn directory(&mut self, _: &EntryPath) -> Result<()> {
        Ok(())
    }
    fn begin_file(&mut self, _: &EntryPath, _: u64) -> Result<()> {
        Ok(())
    }
    fn write(&mut self, _: &[u8]) -> Result<()> {
        Ok(())
    }
    fn end_file(&mut self) -> Result<()> {
        Ok(())
    }
}

/// What reading an archive found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveCheck {
    /// Regular files read (`.env` included, the manifest not).
    pub files: u64,
    /// Bytes of those files.
    pub bytes: u64,
    /// Everything wrong with the archive, one line each; empty when sound.
    pub problems: Vec<String>,
}

/// Why reading stopped early.
enum Stop {
    /// The archive is damaged or hostile.
    Corrupt(String),
    /// The sink failed (for example the disk is full).
    Sink(PluginError),
}

impl From<io::Error> for Stop {
    fn from(err: io::Error) -> Self {
        Stop::Corrupt(format!("the archive cannot be read: {err}"))
    }
}

/// What the entries held, gathered while reading.
#[derive(Default)]
struct Contents {
    files: BTreeMap<String, Digested>,
    directories: BTreeSet<String>,
    kinds: HashMap<String, EntryKind>,
    implied_directories: HashSet<String>,
    manifest: Option<Vec<u8>>,
}

/// Reads the archive of `backup`, feeding its content to `sink`. Damage is
/// reported in [`ArchiveCheck::problems`]; errors are storage faults (the
/// archive cannot be opened or read, the sink failed).
pub fn read_archive(ctx: Context, backup: &Backup, sink: &mut dyn ExtractSink) -> Result<ArchiveCheck> {
    let path = ctx.roots.backups.join(&backup.name);
    let storage = |e: io::Error| PluginError::io("read", &path, &e);
    let file = File::open(&path).map_err(|e| PluginError::io("open", &path, &e))?;
    let total = file.metadata().map_err(storage)?.len();
    let progress = Progress::new(ctx.host, total);
    let source = BufReader::with_capacity(IO_BUFFER, HashingReader::new(file, Some(&progress)));
    let mut archive = Archive::new(GzDecoder::new(source));
    let mut contents = Contents::default();

    let entries = read_entries(&mut archive, sink, &mut contents);
    let mut decoder = archive.into_inner();
    let ended = entries.and_then(|()| check_tar_end(&mut decoder));
    let mut source = decoder.into_inner();
    match ended {
        Ok(()) => {}
        Err(Stop::Sink(err)) => return Err(err),
        // A failed read of the file itself is a storage fault, not damage.
        Err(Stop::Corrupt(problem)) if source.get_ref().failed() => {
            return Err(PluginError::Storage(format!("could not read {}: {problem}", path.display())));
        }
        Err(Stop::Corrupt(problem)) => {
            return Ok(ArchiveCheck { files: 0, bytes: 0, problems: vec![problem] });
        }
    }

    let mut problems = Vec::new();
    let trailing = count_remaining(&mut source).map_err(storage)?;
    if trailing > 0 {
        problems.push(format!("{trailing} bytes of unexpected data follow the end of the gzip stream"));
    }
    progress.finish();
    let digest = source.into_inner().finish();
    if !backup.sha256.is_empty() && !digest.sha256.eq_ignore_ascii_case(&backup.sha256) {
        problems.push(format!(
            "the archive's SHA-256 is {}, but {} was recorded when it was made",
            digest.sha256, backup.sha256
        ));
    }
    match contents.manifest.as_deref().map(serde_json::from_slice::<Manifest>) {
        None => problems.push("the archive has no manifest.json".to_string()),
        Some(Err(err)) => problems.push(format!("manifest.json is not a valid manifest: {err}")),
        Some(Ok(manifest)) => {
            if manifest.backup_id != backup.id {
                problems.push(format!(
                    "the manifest belongs to backup {}, not to backup {}",
                    manifest.backup_id, backup.id
                ));
            }
            problems.extend(manifest.mismatches(&contents.files, &contents.directories));
        }
    }
    Ok(ArchiveCheck {
        files: contents.files.len() as u64,
        bytes: contents.files.values().map(|d| d.size).sum(),
        problems,
    })
}

/// Reads every entry, checking its type and path, and passes its content on.
fn read_entries<R: Read>(
    archive: &mut Archive<R>,
    sink: &mut dyn ExtractSink,
    contents: &mut Contents,
) -> Result<(), Stop> {
    let mut buf = vec![0u8; IO_BUFFER];
    for entry in archive.entries()? {
        let mut entry = entry?;
        let raw = entry.path_bytes().into_owned();
        let entry_type = entry.header().entry_type();
        let kind = match entry_type {
            EntryType::Regular => EntryKind::File,
            EntryType::Directory => EntryKind::Directory,
            other => {
                return Err(Stop::Corrupt(format!(
                    "entry {:?} is a {}; only regular files and folders are allowed",
                    String::from_utf8_lossy(&raw),
                    describe(other)
                )));
            }
        };
        let path = check_entry_path(&raw, kind).map_err(Stop::Corrupt)?;
        contents.claim(&path, kind).map_err(Stop::Corrupt)?;
        if kind == EntryKind::Directory {
            sink.directory(&path).map_err(Stop::Sink)?;
            contents.directories.insert(path.as_str().to_string());
            continue;
        }
        let size = entry.size();
        if path.is_manifest() {
            let bytes = read_small(&mut entry, size, MAX_MANIFEST_BYTES, "manifest.json")?;
            contents.manifest = Some(bytes);
            continue;
        }
        if path.is_env() && size > MAX_ENV_BYTES {
            return Err(Stop::Corrupt(format!(
                ".env is {size} bytes, more than the {MAX_ENV_BYTES} bytes a .env may have"
            )));
        }
        sink.begin_file(&path, size).map_err(Stop::Sink)?;
        let mut reader = HashingReader::new(&mut entry, None);
        loop {
            let read = read_full(&mut reader, &mut buf)?;
            if read == 0 {
                break;
            }
            sink.write(&buf[..read]).map_err(Stop::Sink)?;
        }
        sink.end_file().map_err(Stop::Sink)?;
        let digest = reader.finish();
        if digest.size != size {
            return Err(Stop::Corrupt(format!(
                "{} holds {} bytes, its header says {size}",
                path.as_str(),
                digest.size
            )));
        }
        contents.files.insert(path.as_str().to_string(), digest);
    }
    Ok(())
}

impl Contents {
    /// Records that the archive holds `path` as `kind`; refuses duplicates
    /// and entries that would lie inside a file.
    fn claim(&mut self, path: &EntryPath, kind: EntryKind) -> Result<(), String> {
        for ancestor in path.ancestors() {
            if self.kinds.get(ancestor) == Some(&EntryKind::File) {
                return Err(format!("entry {:?} lies inside the file {ancestor:?}", path.as_str()));
            }
            self.implied_directories.insert(ancestor.to_string());
        }
        let name = path.as_str();
        if self.kinds.contains_key(name) {
            return Err(format!("the archive holds {name:?} more than once"));
        }
        if kind == EntryKind::File && self.implied_directories.contains(name) {
            return Err(format!("{name:?} is a file, but other entries lie inside it"));
        }
        self.kinds.insert(name.to_string(), kind);
        Ok(())
    }
}

/// Reads the rest of the tar stream after its first end block: it must be
/// zeros, at least one more block, and the gzip stream must end cleanly.
fn check_tar_end(decoder: &mut impl Read) -> Result<(), Stop> {
    let mut buf = vec![0u8; 64 << 10];
    let mut padding = 0u64;
    loop {
        let read = decoder
            .read(&mut buf)
            .map_err(|e| Stop::Corrupt(format!("the gzip stream is incomplete or damaged: {e}")))?;
        if read == 0 {
            break;
        }
        if buf[..read].iter().any(|b| *b != 0) {
            return Err(Stop::Corrupt("data follows the end of the tar stream".to_string()));
        }
        padding += read as u64;
    }
    if padding < TAR_BLOCK {
        return Err(Stop::Corrupt(
            "the tar stream ends without its end-of-archive marker (the archive is truncated)".to_string(),
        ));
    }
    Ok(())
}

/// Bytes left in `source` (after the gzip member ended).
fn count_remaining(source: &mut impl BufRead) -> io::Result<u64> {
    let mut count = 0u64;
    loop {
        let available = source.fill_buf()?.len();
        if available == 0 {
            return Ok(count);
        }
        source.consume(available);
        count += available as u64;
    }
}

/// Reads a small entry of `size` bytes into memory, refusing it above `max`.
fn read_small(entry: &mut impl Read, size: u64, max: u64, what: &str) -> Result<Vec<u8>, Stop> {
    if size > max {
        return Err(Stop::Corrupt(format!("{what} is {size} bytes, more than the {max} allowed")));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    entry.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads until `buf` is full or the reader ends, so that writes are large.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// A tar entry type in words.
fn describe(entry_type: EntryType) -> String {
    match entry_type {
        EntryType::Symlink => "symbolic link".to_string(),
        EntryType::Link => "hard link".to_string(),
        EntryType::Char => "character device".to_string(),
        EntryType::Block => "block device".to_string(),
        EntryType::Fifo => "FIFO".to_string(),
        other => format!("tar entry of type {:?}", other.as_byte() as char),
    }
}
