//! Verify in one instance: re-read a backup's archive and check it against
//! its manifest and recorded checksums, writing nothing.

use crate::archive::read::{Discard, read_archive};
use crate::catalog::Catalog;
use crate::error::Result;
use crate::host::Context;
use crate::jobs::read::recorded_sha256_problem;
use crate::records::VerifyReport;

/// Checks backup `id`. A damaged archive gives `ok: false` with the
/// problems found; unknown ids are not-found.
pub fn verify(ctx: Context, id: u64) -> Result<VerifyReport> {
    let now = ctx.host.now();
    let catalog = Catalog::load(ctx)?;
    let backup = catalog.backup(id, now)?;
    let mut check = read_archive(ctx, &backup, &mut Discard)?;
    if check.problems.is_empty() && backup.layout.is_some() {
        // The pieces' digests cover every byte; the record's SHA-256 is what
        // a person checks with `sha256sum`, so it is held to the file too.
        let path = ctx.roots.backups.join(&backup.name);
        check.problems.extend(recorded_sha256_problem(ctx, &path, &backup.sha256)?);
    }
    Ok(VerifyReport {
        id,
        ok: check.problems.is_empty(),
        files_checked: check.files,
        bytes_checked: check.bytes,
        problems: check.problems,
    })
}
