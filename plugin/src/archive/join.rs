//! Joins the parts of a create into the finished archive: the first part's
//! file is the start of the archive; every other part, then the tail (the
//! manifest and the tar end marker), is appended to it, and the archive's
//! SHA-256 goes on from where the first part's writer left it. The pieces
//! each part's writer recorded (with their BLAKE3) make the layout, moved
//! to where each part lands. The result is synced and only then renamed to
//! its final name.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::hashing::{IO_BUFFER, Progress};
use super::layout::{ArchiveLayout, Piece};
use super::manifest::{MANIFEST_FORMAT, Manifest};
use super::name::archive_name;
use super::write::{PartWritten, tail_bytes};
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
    /// Where its pieces lie.
    pub layout: ArchiveLayout,
}

/// The file part `index` of a create is written to, inside its job folder.
pub fn part_file(job_dir: &Path, index: usize) -> PathBuf {
    job_dir.join(format!("part-{index}"))
}

/// Joins the parts written in `job_dir` (`parts[i]` describes part `i`)
/// into the archive of backup `id` created at `created_at`, renamed into
/// `backups/` once complete and synced.
pub fn join(ctx: Context, job_dir: &Path, id: u64, created_at: i64, parts: &[PartWritten]) -> Result<WrittenArchive> {
    let first_path = part_file(job_dir, 0);
    let storage = |e: io::Error| PluginError::io("write", &first_path, &e);
    let first = parts.first().ok_or_else(|| PluginError::Storage("a create has at least one part".to_string()))?;
    let mut sha256 =
        first.archive_sha256.clone().filter(|s| s.is_well_formed() && s.length() == first.length).ok_or_else(|| {
            PluginError::Storage("the first part of the archive was not hashed as it was written".into())
        })?;
    let on_disk = fs::metadata(&first_path).map_err(storage)?.len();
    if on_disk != first.length {
        return Err(changed(0, &first_path));
    }
    let mut pieces = first.pieces.clone();
    let appended: u64 = parts[1..].iter().map(|p| p.length).sum();
    let progress = Progress::new(ctx.host, appended);
    let mut out =
        BufWriter::with_capacity(IO_BUFFER, OpenOptions::new().append(true).open(&first_path).map_err(storage)?);
    let mut offset = on_disk;
    let mut buf = vec![0u8; IO_BUFFER];
    for (index, part) in parts.iter().enumerate().skip(1) {
        let path = part_file(job_dir, index);
        let mut file = File::open(&path).map_err(|e| PluginError::io("read", &path, &e))?;
        let mut length = 0u64;
        loop {
            let read = file.read(&mut buf).map_err(|e| PluginError::io("read", &path, &e))?;
            if read == 0 {
                break;
            }
            sha256.update(&buf[..read]);
            out.write_all(&buf[..read]).map_err(storage)?;
            length += read as u64;
            progress.advance(read as u64);
        }
        if length != part.length {
            return Err(changed(index, &path));
        }
        pieces.extend(part.pieces.iter().map(|p| Piece { offset: offset + p.offset, ..p.clone() }));
        offset += length;
    }

    let mtime = u64::try_from(created_at).unwrap_or(0);
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_string(),
        backup_id: id,
        created_at: rfc3339(created_at),
        files: parts.iter().flat_map(|p| p.files.iter().cloned()).collect(),
        directories: parts.iter().flat_map(|p| p.directories.iter().cloned()).collect(),
    };
    let tail = tail_bytes(&manifest, mtime)?;
    sha256.update(&tail);
    out.write_all(&tail).map_err(storage)?;
    pieces.push(Piece { offset, length: tail.len() as u64, blake3: blake3::hash(&tail).to_hex().to_string() });
    let size = offset + tail.len() as u64;
    let file = out.into_inner().map_err(|e| storage(e.into_error()))?;
    file.sync_all().map_err(storage)?;
    drop(file);
    progress.finish();

    let name = archive_name(id, created_at)?;
    let target = ctx.roots.backups.join(&name);
    fs::rename(&first_path, &target).map_err(|e| PluginError::io("rename", &first_path, &e))?;
    Ok(WrittenArchive { name, size, sha256: sha256.finish(), layout: ArchiveLayout { pieces } })
}

fn changed(index: usize, path: &Path) -> PluginError {
    PluginError::Storage(format!(
        "part {index} of the archive ({}) changed after it was written; run the backup again",
        path.display()
    ))
}
