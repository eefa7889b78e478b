//! The cases of damaged and hostile archives: each takes a real archive
//! the plugin made, puts a forged or damaged one in its place, and requires
//! `restore` to answer `corrupt-archive` and to change nothing outside the
//! staging folders and `backups/`.
//!
//! The forgeries use only the contract's archive format (a gzip'd tar of
//! `.env`, `data/`, `public/` and `translations/`), never a plugin's
//! manifest, so a plugin may refuse them for any reason it finds, its
//! recorded SHA-256 of the archive included. Checks that need a plugin's
//! manifest (a manifest that lies, a file it does not list) are that
//! plugin's own tests.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use kinesis_backup_core::model::Backup;
use tar::EntryType;

use super::Ctx;
use super::archive::{Item, pack, read_items};
use super::clock::{TestClock, utc};
use super::fail::{Answer, Kind, Outcome, ensure, setup};
use super::tree::{Tree, differences, snapshot_tree};

/// Flips bits of the byte in the middle of `bytes` (none when empty).
fn flip_middle(bytes: &mut [u8]) {
    let middle = bytes.len() / 2;
    if let Some(byte) = bytes.get_mut(middle) {
        *byte ^= 0x41;
    }
}

/// Flips bits of the byte in the middle of `file`.
pub(super) fn flip_middle_byte(file: &Path) -> Outcome {
    let mut bytes = setup(std::fs::read(file), "read the archive to damage")?;
    ensure!(!bytes.is_empty(), "the archive {} is empty", file.display());
    flip_middle(&mut bytes);
    setup(std::fs::write(file, &bytes), "write the damaged archive")
}

/// A real backup of generated files, with its archive's bytes and entries.
struct Real {
    backup: Backup,
    bytes: Vec<u8>,
    items: Vec<Item>,
}

fn real_archive(ctx: &Ctx, seed: u64) -> Outcome<Real> {
    ctx.scratch.fill(seed, false)?;
    let inv = ctx.scratch.invocation(TestClock::at(utc(2024, 10, 1, 8, 0, 0)));
    let backup = ctx.runtime.create(&inv, "the real one", None).answer("create")?;
    let path = ctx.scratch.dirs.backups.join(&backup.name);
    let bytes = std::fs::read(&path).map_err(|e| format!("backups/{} cannot be read: {e}", backup.name))?;
    let items = read_items(&bytes)?;
    Ok(Real { backup, bytes, items })
}

/// Everything in the temporary folder except `backups/` (the plugin's) and
/// the staging folders (discarded after a failed restore).
fn outside_of_the_plugins_folders(ctx: &Ctx) -> Tree {
    let mut tree = snapshot_tree(ctx.scratch.around());
    tree.retain(|path, _| !path.starts_with("tenant/backups") && !path.starts_with("staging"));
    tree
}

/// Puts `bytes` in place of the real archive, restores it, and requires a
/// `corrupt-archive` refusal that changed nothing.
fn refused(ctx: &Ctx, real: &Real, bytes: &[u8], what: &str) -> Outcome {
    setup(std::fs::write(ctx.scratch.dirs.backups.join(&real.backup.name), bytes), "write the forged archive")?;
    let before = outside_of_the_plugins_folders(ctx);
    let inv = ctx.scratch.restore_invocation(TestClock::at(utc(2024, 10, 1, 9, 0, 0)))?;
    ctx.runtime.restore(&inv, real.backup.id).refused_as(Kind::CorruptArchive, &format!("restore of {what}"))?;
    if let Some(diff) = differences(&before, &outside_of_the_plugins_folders(ctx)) {
        return Err(format!("the refused restore of {what} changed files outside its staging folders: {diff}"));
    }
    Ok(())
}

/// Re-packs the real archive with `item` added in the middle.
fn with_added(ctx: &Ctx, seed: u64, item: Item, what: &str) -> Outcome {
    let real = real_archive(ctx, seed)?;
    let mut items = real.items.clone();
    items.insert(items.len() / 2, item);
    refused(ctx, &real, &pack(&items)?, what)
}

/// An entry `data/../../escape.txt`.
pub(super) fn parent_dir_entry(ctx: &Ctx) -> Outcome {
    with_added(ctx, 11, Item::file("data/../../escape.txt", b"escaped"), "an archive with a `..` entry")
}

/// An entry with an absolute path.
pub(super) fn absolute_path(ctx: &Ctx) -> Outcome {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let target = std::env::temp_dir().join(format!("kinesis-check-escape-{}-{nanos}.txt", std::process::id()));
    let path = target.to_string_lossy().into_owned();
    let outcome = with_added(ctx, 12, Item::file(&path, b"escaped"), "an archive with an absolute path");
    let escaped = target.exists();
    let _ = std::fs::remove_file(&target);
    outcome?;
    ensure!(!escaped, "restoring an archive with an absolute path wrote {path}");
    Ok(())
}

/// A symbolic link `data/passwd` -> `/etc/passwd`.
pub(super) fn symlink(ctx: &Ctx) -> Outcome {
    let link = Item::link("data/passwd", EntryType::Symlink, "/etc/passwd");
    with_added(ctx, 13, link, "an archive with a symbolic link")
}

/// A hard link to another file of the archive.
pub(super) fn hardlink(ctx: &Ctx) -> Outcome {
    let link = Item::link("data/hard", EntryType::Link, "data/nested/deeper/notes.md");
    with_added(ctx, 14, link, "an archive with a hard link")
}

/// The archive cut off at 60 %.
pub(super) fn truncated_gzip(ctx: &Ctx) -> Outcome {
    let real = real_archive(ctx, 18)?;
    refused(ctx, &real, &real.bytes[..real.bytes.len() * 6 / 10], "a truncated archive")
}

/// Bytes after the last gzip member.
pub(super) fn trailing_garbage(ctx: &Ctx) -> Outcome {
    let real = real_archive(ctx, 19)?;
    let mut bytes = real.bytes.clone();
    bytes.extend_from_slice(b"this is not part of any gzip member");
    refused(ctx, &real, &bytes, "an archive with data after its end")
}

/// One byte changed in the middle of the archive.
pub(super) fn flipped_byte(ctx: &Ctx) -> Outcome {
    let real = real_archive(ctx, 20)?;
    let mut bytes = real.bytes.clone();
    flip_middle(&mut bytes);
    refused(ctx, &real, &bytes, "an archive with a changed byte")
}
