//! Verify: re-read a backup's archive and check it against its manifest
//! and recorded checksum, writing nothing.

use crate::archive::read::{Discard, read_archive};
use crate::catalog::Catalog;
use crate::error::Result;
use crate::host::Context;
use crate::records::VerifyReport;

/// Checks backup `id`. A damaged archive gives `ok: false` with the
/// problems found; unknown ids are not-found.
pub fn verify(ctx: Context, id: u64) -> Result<VerifyReport> {
    let now = ctx.host.now();
    let catalog = Catalog::load(ctx)?;
    let backup = catalog.backup(id, now)?;
    let check = read_archive(ctx, &backup, &mut Discard)?;
    Ok(VerifyReport {
        id,
        ok: check.problems.is_empty(),
        files_checked: check.files,
        bytes_checked: check.bytes,
        problems: check.problems,
    })
}
