//! A restore or a verify split into parts: one part per piece of the
//! archive's recorded layout, each read (and, for a restore, extracted
//! straight into the staged content folders) by its own instance and
//! checked against the piece's BLAKE3; the finish reads the tail with the
//! manifest and checks everything the parts found. An archive without a
//! layout, or with a recorded layout that does not tile the file, is one
//! part: the whole file, checked against its SHA-256. Restore and verify in
//! one instance run the same parts one after the other
//! ([`ReadJob::read_all`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::archive::extract::Staging;
use crate::archive::hashing::{Digested, Hashes, Progress, sha256_file};
use crate::archive::layout::{ArchiveLayout, PieceRole};
use crate::archive::manifest::MANIFEST_PATH;
use crate::archive::read::{
    ArchiveCheck, Discard, ExtractSink, PieceContents, Span, check_contents, damaged, piece_digest_problem, read_span,
};
use crate::catalog::Catalog;
use crate::error::{PluginError, Result};
use crate::host::Context;
use crate::records::{Backup, RestoreReport, VerifyReport};

/// What every call of a restore or verify job needs to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadJob {
    /// The backup read.
    pub id: u64,
    /// Its archive's file name.
    pub name: String,
    /// Its archive's size when the job began.
    pub size: u64,
    /// Its recorded SHA-256.
    pub sha256: String,
    /// Its recorded layout, when it has a usable one.
    pub layout: Option<ArchiveLayout>,
    /// Whether this is a restore (extracting) or a verify (reading only).
    pub restore: bool,
}

/// Most parts a restore or verify is planned as; an archive of more pieces
/// gives each part a run of them.
const MAX_PARTS: usize = 256;

/// What one part of a restore or verify found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRead {
    /// What each piece it read held, in archive order.
    pub contents: Vec<PieceContents>,
    /// The digest of the bytes of each piece it read.
    pub digests: Vec<Digested>,
    /// The archive's `.env`, hex, when this part held it (restore only).
    pub env: Option<String>,
}

impl ReadJob {
    /// Looks backup `id` up for a restore (`restore`) or a verify.
    pub fn begin(ctx: Context, id: u64, restore: bool) -> Result<ReadJob> {
        let now = ctx.host.now();
        let catalog = if restore { Catalog::load_for_update(ctx, now)?.0 } else { Catalog::load(ctx)? };
        ReadJob::of(ctx, &catalog.backup(id, now)?, restore)
    }

    /// The reading of `backup`'s archive as it is on disk now.
    pub fn of(ctx: Context, backup: &Backup, restore: bool) -> Result<ReadJob> {
        let path = ctx.roots.backups.join(&backup.name);
        let size = std::fs::metadata(&path).map_err(|e| PluginError::io("open", &path, &e))?.len();
        let layout = backup.layout.clone().filter(|layout| layout.fault(size).is_none());
        Ok(ReadJob { id: backup.id, name: backup.name.clone(), size, sha256: backup.sha256.clone(), layout, restore })
    }

    /// How many parts the job has.
    pub fn parts(&self) -> usize {
        self.layout.as_ref().map_or(1, |layout| layout.parts().len().min(MAX_PARTS))
    }

    /// The pieces of the layout part `index` reads: runs of about equal
    /// length, in order.
    fn pieces_of(&self, layout: &ArchiveLayout, index: usize) -> std::ops::Range<usize> {
        let (pieces, parts) = (layout.parts().len(), self.parts());
        index * pieces / parts..(index + 1) * pieces / parts
    }

    fn path(&self, ctx: Context) -> PathBuf {
        ctx.roots.backups.join(&self.name)
    }

    /// The spans part `index` reads, with the hashes of each file and of
    /// each span's bytes.
    fn spans_of<'p>(&self, path: &'p std::path::Path, index: usize) -> Result<(Vec<Span<'p>>, Hashes, Hashes)> {
        if index >= self.parts() {
            return Err(PluginError::InvalidInput(format!("the job has no part {index}")));
        }
        Ok(match &self.layout {
            Some(layout) => {
                let spans = layout.pieces[self.pieces_of(layout, index)]
                    .iter()
                    .map(|piece| Span { path, offset: piece.offset, length: piece.length, role: PieceRole::Part })
                    .collect();
                (spans, Hashes::BLAKE3, Hashes::BLAKE3)
            }
            None => {
                let whole = Span { path, offset: 0, length: self.size, role: PieceRole::Whole };
                (vec![whole], Hashes::BOTH, Hashes { sha256: true, blake3: false })
            }
        })
    }

    /// Reads part `index`; a restore extracts it into the content roots.
    pub fn run_part(&self, ctx: Context, index: usize) -> Result<PartRead> {
        let path = self.path(ctx);
        let spans = self.spans_of(&path, index)?;
        let progress = Progress::new(ctx.host, spans.0.iter().map(|span| span.length).sum());
        let mut staging = Staging::into_roots(ctx);
        let sink: &mut dyn ExtractSink = if self.restore { &mut staging } else { &mut Discard };
        let mut read = read_part(spans, sink, &progress)?;
        progress.finish();
        read.env = staging.env.map(hex::encode);
        Ok(read)
    }

    /// Reads every part in this instance, one after the other, into `sink`,
    /// then checks them and the tail as a job's finish does; stops at the
    /// first damage.
    pub fn read_all(&self, ctx: Context, sink: &mut dyn ExtractSink) -> Result<ArchiveCheck> {
        let path = self.path(ctx);
        let progress = Progress::new(ctx.host, self.size);
        let mut outcomes = Vec::with_capacity(self.parts());
        for index in 0..self.parts() {
            let read = read_part(self.spans_of(&path, index)?, sink, &progress)?;
            if let Some(damage) = read.contents.iter().find_map(|c| c.damage.clone()) {
                progress.finish();
                return Ok(damaged(damage));
            }
            outcomes.push(read);
        }
        let (check, _) = self.check(ctx, &outcomes, &progress)?;
        progress.finish();
        Ok(check)
    }

    /// Progress of a finish: its reading of the tail.
    fn tail_progress<'a>(&self, ctx: Context<'a>) -> Progress<'a> {
        let tail = self.layout.as_ref().and_then(ArchiveLayout::tail).map_or(0, |tail| tail.length);
        Progress::new(ctx.host, tail)
    }

    /// Checks what the parts found (`outcomes[i]` from part `i`), the tail
    /// (read with `progress`) and the digests, and answers the check and
    /// the archive's `.env`.
    fn check(
        &self,
        ctx: Context,
        outcomes: &[PartRead],
        progress: &Progress,
    ) -> Result<(ArchiveCheck, Option<Vec<u8>>)> {
        if outcomes.len() != self.parts() {
            return Err(PluginError::InvalidInput(format!(
                "the job has {} parts, but {} outcomes were given",
                self.parts(),
                outcomes.len()
            )));
        }
        let mut problems = Vec::new();
        let mut tail_contents = None;
        let mut pieces: Vec<&PieceContents> = outcomes.iter().flat_map(|o| o.contents.iter()).collect();
        match &self.layout {
            Some(layout) => {
                for (part, outcome) in outcomes.iter().enumerate() {
                    let range = self.pieces_of(layout, part);
                    let stopped = outcome.contents.iter().any(|c| c.damage.is_some());
                    if outcome.digests.len() > range.len() || (outcome.digests.len() < range.len() && !stopped) {
                        return Err(PluginError::InvalidInput(format!(
                            "part {part} read {} pieces; it has {}",
                            outcome.digests.len(),
                            range.len()
                        )));
                    }
                    for (index, digest) in range.zip(&outcome.digests) {
                        problems.extend(piece_digest_problem(layout, index, digest));
                    }
                }
                let tail_index = layout.pieces.len() - 1;
                let tail = &layout.pieces[tail_index];
                let path = self.path(ctx);
                let span = Span { path: &path, offset: tail.offset, length: tail.length, role: PieceRole::Tail };
                let (mut contents, digest) = read_span(&span, Hashes::BLAKE3, Hashes::BLAKE3, &mut Discard, progress)?;
                // The tail is read, never extracted: it may hold nothing else.
                if let Some((path, _)) = contents.entries.iter().find(|(path, _)| path != MANIFEST_PATH)
                    && contents.damage.is_none()
                {
                    contents.damage =
                        Some(format!("the archive's tail holds {path}; it may hold only {MANIFEST_PATH}"));
                }
                problems.extend(piece_digest_problem(layout, tail_index, &digest));
                tail_contents = Some(contents);
            }
            None => {
                let sha256 = outcomes[0].digests.first().and_then(|d| d.sha256.clone()).unwrap_or_default();
                problems.extend(sha256_problem(&sha256, &self.sha256));
            }
        }
        pieces.extend(tail_contents.as_ref());
        let mut check = check_contents(&pieces, self.id);
        if pieces.iter().any(|p| p.damage.is_some()) {
            problems.clear();
        }
        check.problems.splice(0..0, problems);
        let env = match outcomes.iter().find_map(|o| o.env.as_deref()) {
            Some(text) => Some(
                hex::decode(text)
                    .map_err(|e| PluginError::InvalidInput(format!("a part's outcome is damaged: {e}")))?,
            ),
            None => None,
        };
        Ok((check, env))
    }

    /// Ends a restore job: everything checked, `.env` written (left as it
    /// is when the archive has none).
    pub fn finish_restore(&self, ctx: Context, outcomes: &[PartRead]) -> Result<RestoreReport> {
        let progress = self.tail_progress(ctx);
        let (check, env) = self.check(ctx, outcomes, &progress)?;
        progress.finish();
        let check = self.sound(check)?;
        if let Some(env) = env {
            ctx.host
                .write_env(&env)
                .map_err(|e| PluginError::Storage(format!("could not write the tenant's .env: {e}")))?;
        }
        ctx.info(&format!("restored backup {}: {} files, {} bytes", self.id, check.files, check.bytes));
        Ok(RestoreReport { id: self.id, files: check.files, bytes: check.bytes })
    }

    /// `check` when it found nothing wrong; else the refusal of a restore.
    pub fn sound(&self, check: ArchiveCheck) -> Result<ArchiveCheck> {
        if check.problems.is_empty() {
            return Ok(check);
        }
        Err(PluginError::CorruptArchive(format!(
            "backup {} ({}) was not restored, nothing was changed: {}",
            self.id,
            self.name,
            check.problems.join("; ")
        )))
    }

    /// Ends a verify job.
    pub fn finish_verify(&self, ctx: Context, outcomes: &[PartRead]) -> Result<VerifyReport> {
        let progress = self.tail_progress(ctx);
        let (check, _) = self.check(ctx, outcomes, &progress)?;
        progress.finish();
        self.verify_report(ctx, check)
    }

    /// The report of a verify that found `check`; with a layout, the whole
    /// file's SHA-256 is held to the record as well (the pieces' digests
    /// cover every byte, but the record's SHA-256 is what a person checks
    /// with `sha256sum`).
    pub fn verify_report(&self, ctx: Context, mut check: ArchiveCheck) -> Result<VerifyReport> {
        if check.problems.is_empty() && self.layout.is_some() {
            check.problems.extend(self.whole_file_sha256_problem(ctx)?);
        }
        Ok(VerifyReport {
            id: self.id,
            ok: check.problems.is_empty(),
            files_checked: check.files,
            bytes_checked: check.bytes,
            problems: check.problems,
        })
    }

    /// The problem when the whole archive file's SHA-256 is not the
    /// recorded one.
    fn whole_file_sha256_problem(&self, ctx: Context) -> Result<Option<String>> {
        let path = self.path(ctx);
        let progress = Progress::new(ctx.host, self.size);
        let (_, sha256) = sha256_file(&path, Some(&progress)).map_err(|e| PluginError::io("read", &path, &e))?;
        progress.finish();
        Ok(sha256_problem(&sha256, &self.sha256))
    }
}

/// The problem when the archive's SHA-256 `found` is not the `recorded`
/// one (none when nothing was recorded).
fn sha256_problem(found: &str, recorded: &str) -> Option<String> {
    (!recorded.is_empty() && !found.eq_ignore_ascii_case(recorded))
        .then(|| format!("the archive's SHA-256 is {found}, but {recorded} was recorded when it was made"))
}

/// Reads `spans` (with the hashes of each file and of each span's bytes)
/// into `sink`, stopping at the first damage; the outcome has no `.env`
/// (the sink has it).
fn read_part(
    (spans, file_hashes, span_hashes): (Vec<Span>, Hashes, Hashes),
    sink: &mut dyn ExtractSink,
    progress: &Progress,
) -> Result<PartRead> {
    let mut read = PartRead { contents: Vec::new(), digests: Vec::new(), env: None };
    for span in &spans {
        let (contents, digest) = read_span(span, file_hashes, span_hashes, sink, progress)?;
        let damaged = contents.damage.is_some();
        read.contents.push(contents);
        read.digests.push(digest);
        if damaged {
            break;
        }
    }
    Ok(read)
}
