//! Verify in one instance: re-read a backup's archive and check it against
//! its manifest and recorded checksums, writing nothing. It runs the parts
//! of a verify job one after the other.

use crate::archive::read::Discard;
use crate::catalog::Catalog;
use crate::error::Result;
use crate::host::Context;
use crate::jobs::read::ReadJob;
use crate::records::VerifyReport;

/// Checks backup `id`. A damaged archive gives `ok: false` with the
/// problems found; unknown ids are not-found.
pub fn verify(ctx: Context, id: u64) -> Result<VerifyReport> {
    let now = ctx.host.now();
    let catalog = Catalog::load(ctx)?;
    let job = ReadJob::of(ctx, &catalog.backup(id, now)?, false)?;
    let check = job.read_all(ctx, &mut Discard)?;
    job.verify_report(ctx, check)
}
