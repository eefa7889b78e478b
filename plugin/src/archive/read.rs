//! Reads backup archives once, streaming, and checks everything about them:
//! every entry's type and path, duplicates, how each piece's tar and gzip
//! streams end, trailing data, the digest of the bytes read and the
//! manifest. An archive is read as one piece or, when its layout is known,
//! piece by piece (each piece may be read by its own instance, see
//! [`super::layout`]); [`check_contents`] puts the pieces' findings
//! together. What the entries hold goes to an [`ExtractSink`]: restore
//! stages it, verify discards it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use flate2::bufread::GzDecoder;
use serde::{Deserialize, Serialize};
use tar::{Archive, EntryType};

use super::entry_path::{EntryKind, EntryPath, check_entry_path};
use super::hashing::{Digested, Hashes, HashingReader, IO_BUFFER, Progress};
use super::layout::{ArchiveLayout, PieceRole};
use super::manifest::Manifest;
use crate::error::{PluginError, Result};

/// Largest `.env` an archive may hold.
pub const MAX_ENV_BYTES: u64 = 1 << 20;
/// Largest manifest an archive may hold (it is parsed in memory).
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// Size of a tar block: headers and padded content fill whole blocks, and
/// a tar stream ends with two zero blocks.
pub const TAR_BLOCK: u64 = 512;
/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

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

/// What one piece of an archive held, gathered while reading it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PieceContents {
    /// Every entry in archive order.
    pub entries: Vec<(String, EntryKind)>,
    /// The digest of every regular file but the manifest.
    pub files: Vec<(String, Digested)>,
    /// The manifest's text, when the piece holds it.
    pub manifest: Option<Vec<u8>>,
    /// The damage that stopped the reading, if any.
    pub damage: Option<String>,
}

/// A run of an archive file to read.
#[derive(Debug, Clone, Copy)]
pub struct Span<'a> {
    /// The archive file.
    pub path: &'a Path,
    /// Where the run starts.
    pub offset: u64,
    /// How long it is.
    pub length: u64,
    /// How its tar stream must end.
    pub role: PieceRole,
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

/// Claims of paths, to refuse duplicates and entries inside files.
#[derive(Default)]
struct Claims {
    kinds: HashMap<String, EntryKind>,
    implied_directories: HashSet<String>,
}

/// Reads `span`, feeding its entries to `sink` and computing `file_hashes`
/// of every file and `span_hashes` of the span's bytes. Damage ends up in
/// [`PieceContents::damage`]; errors are storage faults (the file cannot be
/// read, the sink failed).
pub fn read_span(
    span: &Span,
    file_hashes: Hashes,
    span_hashes: Hashes,
    sink: &mut dyn ExtractSink,
    progress: &Progress,
) -> Result<(PieceContents, Digested)> {
    let path = span.path;
    let storage = |e: io::Error| PluginError::io("read", path, &e);
    let mut file = File::open(path).map_err(|e| PluginError::io("open", path, &e))?;
    file.seek(SeekFrom::Start(span.offset)).map_err(storage)?;
    let source = HashingReader::new(file.take(span.length), span_hashes, Some(progress));
    let mut archive = Archive::new(Members::new(BufReader::with_capacity(IO_BUFFER, source)));
    let mut contents = PieceContents::default();
    let mut claims = Claims::default();

    let read = read_entries(&mut archive, file_hashes, sink, &mut contents, &mut claims);
    let mut members = archive.into_inner();
    let ended = read.and_then(|entries_end| check_end(&mut members, entries_end, span.role));
    let trailing = members.trailing;
    let mut source = members.into_inner().into_inner();
    match ended {
        Ok(()) => {}
        Err(Stop::Sink(err)) => return Err(err),
        // A failed read of the file itself is a storage fault, not damage.
        Err(Stop::Corrupt(problem)) if source.failed() => {
            return Err(PluginError::Storage(format!("could not read {}: {problem}", path.display())));
        }
        Err(Stop::Corrupt(problem)) => contents.damage = Some(problem),
    }
    if contents.damage.is_none() && trailing > 0 {
        contents.damage = Some(format!("{trailing} bytes of unexpected data follow the end of the gzip stream"));
    }
    // The rest of the span counts towards its digest, damaged or not.
    io::copy(&mut source, &mut io::sink()).map_err(storage)?;
    let digest = source.finish();
    if digest.size != span.length && contents.damage.is_none() {
        contents.damage = Some(format!(
            "the archive ends {} bytes early: it is shorter than recorded",
            span.length.saturating_sub(digest.size)
        ));
    }
    Ok((contents, digest))
}

/// The problem with piece `index` of `layout` when `digest` of its bytes is
/// not the one recorded.
pub fn piece_digest_problem(layout: &ArchiveLayout, index: usize, digest: &Digested) -> Option<String> {
    let recorded = &layout.pieces.get(index)?.blake3;
    match &digest.blake3 {
        Some(found) if found.eq_ignore_ascii_case(recorded) => None,
        found => Some(format!(
            "piece {index} of the archive has BLAKE3 {}, but {recorded} was recorded when it was made",
            found.as_deref().unwrap_or("(not computed)")
        )),
    }
}

/// An archive check with one problem and nothing read.
pub fn damaged(problem: String) -> ArchiveCheck {
    ArchiveCheck { files: 0, bytes: 0, problems: vec![problem] }
}

/// Puts together what the pieces of backup `backup_id`'s archive held,
/// in archive order: no path twice, nothing inside a file, exactly one
/// manifest, which lists exactly the files and folders found.
pub fn check_contents(pieces: &[&PieceContents], backup_id: u64) -> ArchiveCheck {
    if let Some(damage) = pieces.iter().find_map(|p| p.damage.clone()) {
        return damaged(damage);
    }
    let mut claims = Claims::default();
    let mut files = BTreeMap::new();
    let mut directories = BTreeSet::new();
    let mut manifests = Vec::new();
    for piece in pieces {
        for (path, kind) in &piece.entries {
            if let Err(problem) = claims.claim(path, *kind) {
                return damaged(problem);
            }
            if *kind == EntryKind::Directory {
                directories.insert(path.clone());
            }
        }
        files.extend(piece.files.iter().cloned());
        manifests.extend(piece.manifest.as_deref());
    }
    let mut problems = Vec::new();
    match manifests.as_slice() {
        [] => problems.push("the archive has no manifest.json".to_string()),
        [bytes] => match serde_json::from_slice::<Manifest>(bytes) {
            Err(err) => problems.push(format!("manifest.json is not a valid manifest: {err}")),
            Ok(manifest) => {
                if manifest.backup_id != backup_id {
                    problems.push(format!(
                        "the manifest belongs to backup {}, not to backup {backup_id}",
                        manifest.backup_id
                    ));
                }
                problems.extend(manifest.mismatches(&files, &directories));
            }
        },
        _ => problems.push("the archive holds \"manifest.json\" more than once".to_string()),
    }
    ArchiveCheck { files: files.len() as u64, bytes: files.values().map(|d| d.size).sum(), problems }
}

/// Reads every entry, checking its type and path, and passes its content
/// on. Answers where the last entry's content (with padding) ends in the
/// tar stream.
fn read_entries<R: Read>(
    archive: &mut Archive<R>,
    file_hashes: Hashes,
    sink: &mut dyn ExtractSink,
    contents: &mut PieceContents,
    claims: &mut Claims,
) -> Result<u64, Stop> {
    let mut buf = vec![0u8; IO_BUFFER];
    let mut entries_end = 0u64;
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
        claims.claim(path.as_str(), kind).map_err(Stop::Corrupt)?;
        contents.entries.push((path.as_str().to_string(), kind));
        let size = entry.size();
        entries_end = entry.raw_file_position() + size.div_ceil(TAR_BLOCK) * TAR_BLOCK;
        if kind == EntryKind::Directory {
            sink.directory(&path).map_err(Stop::Sink)?;
            continue;
        }
        if path.is_manifest() {
            contents.manifest = Some(read_small(&mut entry, size, MAX_MANIFEST_BYTES, "manifest.json")?);
            continue;
        }
        if path.is_env() && size > MAX_ENV_BYTES {
            return Err(Stop::Corrupt(format!(
                ".env is {size} bytes, more than the {MAX_ENV_BYTES} bytes a .env may have"
            )));
        }
        sink.begin_file(&path, size).map_err(Stop::Sink)?;
        let mut reader = HashingReader::new(&mut entry, file_hashes, None);
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
        contents.files.push((path.as_str().to_string(), digest));
    }
    Ok(entries_end)
}

impl Claims {
    /// Records that the archive holds `path` as `kind`; refuses duplicates
    /// and entries that would lie inside a file.
    fn claim(&mut self, name: &str, kind: EntryKind) -> Result<(), String> {
        for ancestor in name.match_indices('/').map(|(at, _)| &name[..at]) {
            if self.kinds.get(ancestor) == Some(&EntryKind::File) {
                return Err(format!("entry {name:?} lies inside the file {ancestor:?}"));
            }
            self.implied_directories.insert(ancestor.to_string());
        }
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

/// Checks how a piece's tar stream ends once its entries are read, the last
/// one's content ending at `entries_end`: a part ends right there; a tail
/// or whole archive goes on with zeros only, at least one more block after
/// the end block tar stopped at.
fn check_end<R: BufRead>(members: &mut Members<R>, entries_end: u64, role: PieceRole) -> Result<(), Stop> {
    let mut buf = vec![0u8; 64 << 10];
    let mut zeros_only = true;
    loop {
        let read = members
            .read(&mut buf)
            .map_err(|e| Stop::Corrupt(format!("the gzip stream is incomplete or damaged: {e}")))?;
        if read == 0 {
            break;
        }
        zeros_only &= buf[..read].iter().all(|b| *b == 0);
    }
    match role {
        PieceRole::Part if members.decoded != entries_end => Err(Stop::Corrupt(
            "a part of the archive holds an end-of-archive marker or data after its last entry".to_string(),
        )),
        PieceRole::Part => Ok(()),
        PieceRole::Tail | PieceRole::Whole if !zeros_only => {
            Err(Stop::Corrupt("data follows the end of the tar stream".to_string()))
        }
        PieceRole::Tail | PieceRole::Whole if members.decoded.saturating_sub(entries_end) < 2 * TAR_BLOCK => {
            Err(Stop::Corrupt(
                "the tar stream ends without its end-of-archive marker (the archive is truncated)".to_string(),
            ))
        }
        PieceRole::Tail | PieceRole::Whole => Ok(()),
    }
}

/// Decodes consecutive gzip members as one stream, as gzip does, and stops
/// at the first byte after a member that does not start another one,
/// counting what follows as trailing data.
struct Members<R: BufRead> {
    state: Option<MemberState<R>>,
    /// Bytes decoded so far.
    decoded: u64,
    /// Bytes after the last member that are not a gzip member.
    trailing: u64,
}

enum MemberState<R: BufRead> {
    Between(R),
    Inside(Box<GzDecoder<R>>),
}

impl<R: BufRead> Members<R> {
    fn new(inner: R) -> Self {
        Members { state: Some(MemberState::Between(inner)), decoded: 0, trailing: 0 }
    }

    /// The reader of the compressed bytes.
    fn into_inner(self) -> R {
        match self.state.expect("a member reader always has a state") {
            MemberState::Between(inner) => inner,
            MemberState::Inside(decoder) => decoder.into_inner(),
        }
    }

    fn step(&mut self, state: MemberState<R>, buf: &mut [u8]) -> (MemberState<R>, Option<io::Result<usize>>) {
        match state {
            MemberState::Inside(mut decoder) => match decoder.read(buf) {
                Ok(0) => (MemberState::Between(decoder.into_inner()), None),
                Ok(read) => {
                    self.decoded += read as u64;
                    (MemberState::Inside(decoder), Some(Ok(read)))
                }
                Err(err) => (MemberState::Inside(decoder), Some(Err(err))),
            },
            MemberState::Between(mut inner) => {
                let head = match inner.fill_buf() {
                    Ok(head) => head,
                    Err(err) => return (MemberState::Between(inner), Some(Err(err))),
                };
                if head.is_empty() {
                    return (MemberState::Between(inner), Some(Ok(0)));
                }
                if head.len() >= GZIP_MAGIC.len() && head[..GZIP_MAGIC.len()] == GZIP_MAGIC {
                    return (MemberState::Inside(Box::new(GzDecoder::new(inner))), None);
                }
                loop {
                    let available = match inner.fill_buf() {
                        Ok(rest) => rest.len(),
                        Err(err) => return (MemberState::Between(inner), Some(Err(err))),
                    };
                    if available == 0 {
                        return (MemberState::Between(inner), Some(Ok(0)));
                    }
                    inner.consume(available);
                    self.trailing += available as u64;
                }
            }
        }
    }
}

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let state = self.state.take().expect("a member reader always has a state");
            let (next, answer) = self.step(state, buf);
            self.state = Some(next);
            if let Some(answer) = answer {
                return answer;
            }
        }
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
