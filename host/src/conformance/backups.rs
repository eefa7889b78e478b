//! The cases of backups: an empty tenant, a restore round trip, the archive
//! format, lists, updates, expiry, ids and verify.

use chrono::Duration;
use kinesis_backup_core::model::ExpiryChange;
use kinesis_backup_core::runtime::Clock;
use sha2::Digest;

use super::Ctx;
use super::archive::{read_items, tenant_tree};
use super::clock::{TestClock, utc};
use super::fail::{Answer, Kind, Outcome, ensure, setup};
use super::tree::{Entry, differences};

/// A fresh tenant has no backups and no schedules, and unknown ids are
/// `not-found`.
pub(super) fn empty_tenant(ctx: &Ctx) -> Outcome {
    let inv = ctx.scratch.invocation(TestClock::at(utc(2024, 3, 1, 12, 0, 0)));
    let page = ctx.runtime.list(&inv, None, 10, 0).answer("list")?;
    ensure!(page.amount == 0 && page.backups.is_empty(), "list of a new tenant answered {} backups", page.amount);
    let schedules = ctx.runtime.schedule_list(&inv, 10, 0).answer("schedule-list")?;
    ensure!(schedules.amount == 0, "schedule-list of a new tenant answered {} schedules", schedules.amount);
    ctx.runtime.get(&inv, 7).refused_as(Kind::NotFound, "get(7) of a new tenant")?;
    ctx.runtime.delete(&inv, 7).refused_as(Kind::NotFound, "delete(7) of a new tenant")?;
    ctx.runtime.verify(&inv, 7).refused_as(Kind::NotFound, "verify(7) of a new tenant")?;
    let staged = ctx.scratch.restore_invocation(TestClock::at(utc(2024, 3, 1, 12, 0, 0)))?;
    ctx.runtime.restore(&staged, 7).refused_as(Kind::NotFound, "restore(7) of a new tenant")?;
    Ok(())
}

/// A backup restored into empty folders gives back `.env` and the three
/// folders byte for byte, and counts the regular files.
pub(super) fn restore_round_trip(ctx: &Ctx) -> Outcome {
    ctx.scratch.fill(1, true)?;
    let before = ctx.scratch.snapshot();
    let clock = TestClock::at(utc(2024, 3, 2, 9, 30, 0));
    let backup =
        ctx.runtime.create(&ctx.scratch.invocation(clock.clone()), "before the changes", None).answer("create")?;

    setup(std::fs::write(&ctx.scratch.dirs.env_file, "SECRET=changed\n"), "change .env")?;
    let report = ctx.runtime.restore(&ctx.scratch.restore_invocation(clock)?, backup.id).answer("restore")?;
    ensure!(report.id == backup.id, "restore({}) reported backup {}", backup.id, report.id);
    if let Some(diff) = differences(&before, &ctx.scratch.staged()) {
        return Err(format!("the restored files differ from the backed-up ones: {diff}"));
    }
    let files = before.values().filter(|e| matches!(e, Entry::File(_))).count() as u64;
    let bytes: u64 = before.values().map(|e| if let Entry::File(b) = e { b.len() as u64 } else { 0 }).sum();
    let env = match before.get(".env") {
        Some(Entry::File(env)) => env.len() as u64,
        _ => 0,
    };
    // The WIT counts `.env` among the files; whether among the bytes it leaves open.
    ensure!(
        report.files == files && (report.bytes == bytes || report.bytes == bytes - env),
        "restore reported {} files of {} bytes; the backup holds {files} regular files (.env included) of {bytes} bytes",
        report.files,
        report.bytes
    );
    Ok(())
}

/// The archive is `backups/backup-YYYYMMDD_HHMM_ID.tar.gz`, its `size` and
/// `sha256` are the file's, and it is a gzip'd tar that holds `.env` and the
/// three folders as they are.
pub(super) fn archive_format(ctx: &Ctx) -> Outcome {
    ctx.scratch.fill(2, false)?;
    let when = utc(2024, 2, 29, 23, 58, 30);
    let backup = ctx.runtime.create(&ctx.scratch.invocation(TestClock::at(when)), "", None).answer("create")?;
    let expected = format!("backup-20240229_2358_{}.tar.gz", backup.id);
    ensure!(
        backup.name == expected,
        "the archive of backup {} is named {:?}, not {expected:?}",
        backup.id,
        backup.name
    );
    ensure!(backup.created_at == when, "created-at is {}, the host's now was {when}", backup.created_at);
    let bytes = std::fs::read(ctx.scratch.dirs.backups.join(&backup.name))
        .map_err(|e| format!("backups/{} cannot be read: {e}", backup.name))?;
    ensure!(backup.size == bytes.len() as u64, "size is {}, the file has {} bytes", backup.size, bytes.len());
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    ensure!(backup.sha256 == sha256, "sha256 is {:?}, the file's is {sha256}", backup.sha256);
    let items = read_items(&bytes)?;
    if let Some(diff) = differences(&ctx.scratch.snapshot(), &tenant_tree(&items)) {
        return Err(format!("the archive does not hold the tenant's files as they are: {diff}"));
    }
    Ok(())
}

/// `list` searches in any letter case (description and name), pages,
/// puts the newest first, and refuses a limit of 0 or 1001.
pub(super) fn list_search_and_pages(ctx: &Ctx) -> Outcome {
    let clock = TestClock::at(utc(2024, 5, 1, 10, 0, 0));
    let inv = ctx.scratch.invocation(clock.clone());
    let mut ids = Vec::new();
    for description in ["Alpha release", "beta", "second ALPHA", "gamma", "delta"] {
        ids.push(ctx.runtime.create(&inv, description, None).answer("create")?.id);
        clock.advance(Duration::minutes(1));
    }
    let first = ctx.runtime.list(&inv, None, 2, 0).answer("list(limit 2)")?;
    ensure!(first.amount == 5, "list counts {} backups in total, not 5", first.amount);
    let newest: Vec<u64> = ids.iter().rev().copied().collect();
    let mut all = Vec::new();
    for offset in (0..6).step_by(2) {
        all.extend(ctx.runtime.list(&inv, None, 2, offset).answer("list")?.backups.into_iter().map(|b| b.id));
    }
    ensure!(all == newest, "pages of 2 give the ids {all:?}, not every backup once newest first: {newest:?}");
    let past = ctx.runtime.list(&inv, None, 2, 10).answer("list(offset 10)")?;
    ensure!(past.backups.is_empty(), "a page past the end holds {} backups", past.backups.len());

    let alpha = ctx.runtime.list(&inv, Some("aLpHa"), 10, 0).answer("list(search \"aLpHa\")")?;
    let found: Vec<u64> = alpha.backups.iter().map(|b| b.id).collect();
    ensure!(
        alpha.amount == 2 && found == [ids[2], ids[0]],
        "search \"aLpHa\" found {found:?}, not {:?}",
        [ids[2], ids[0]]
    );
    let name = ctx.runtime.get(&inv, ids[3]).answer("get")?.name;
    let named = ctx.runtime.list(&inv, Some(&name.to_uppercase()), 10, 0).answer("list(search by name)")?;
    let found: Vec<u64> = named.backups.iter().map(|b| b.id).collect();
    ensure!(found == [ids[3]], "a search for the name {} found {found:?}", name.to_uppercase());
    let none = ctx.runtime.list(&inv, Some("nothing like this"), 10, 0).answer("list")?;
    ensure!(none.amount == 0, "a search that matches nothing counts {}", none.amount);
    for limit in [0, 1001] {
        ctx.runtime.list(&inv, None, limit, 0).refused_as(Kind::InvalidInput, &format!("list(limit {limit})"))?;
    }
    Ok(())
}

/// `update` sets the description, sets, keeps and clears the expiry, and
/// refuses an expiry in the past (changing nothing); `create` refuses one
/// too; unknown ids are `not-found`.
pub(super) fn update_description_and_expiry(ctx: &Ctx) -> Outcome {
    let now = utc(2024, 6, 1, 12, 0, 0);
    let inv = ctx.scratch.invocation(TestClock::at(now));
    let backup = ctx.runtime.create(&inv, "old", None).answer("create")?;
    let later = now + Duration::days(3);
    let updated = ctx.runtime.update(&inv, backup.id, Some("new words"), ExpiryChange::Set(later)).answer("update")?;
    ensure!(
        updated.description == "new words" && updated.expiry == Some(later),
        "update answered description {:?} and expiry {:?}",
        updated.description,
        updated.expiry
    );
    let got = ctx.runtime.get(&inv, backup.id).answer("get")?;
    ensure!(got == updated, "get answers {got:?} after update answered {updated:?}");
    let kept = ctx.runtime.update(&inv, backup.id, None, ExpiryChange::Keep).answer("update(keep)")?;
    ensure!(
        kept.description == "new words" && kept.expiry == Some(later),
        "update without changes answered description {:?} and expiry {:?}",
        kept.description,
        kept.expiry
    );
    let cleared = ctx.runtime.update(&inv, backup.id, None, ExpiryChange::Clear).answer("update(clear)")?;
    ensure!(cleared.expiry.is_none(), "update(clear) left the expiry {:?}", cleared.expiry);
    let past = ExpiryChange::Set(now - Duration::minutes(1));
    ctx.runtime
        .update(&inv, backup.id, Some("x"), past)
        .refused_as(Kind::InvalidInput, "update(expiry in the past)")?;
    let after = ctx.runtime.get(&inv, backup.id).answer("get")?;
    ensure!(after == cleared, "a refused update changed the backup to {after:?}");
    ctx.runtime
        .create(&inv, "", Some(now - Duration::hours(1)))
        .refused_as(Kind::InvalidInput, "create(expiry in the past)")?;
    ctx.runtime.update(&inv, 999, None, ExpiryChange::Clear).refused_as(Kind::NotFound, "update(999)")?;
    Ok(())
}

/// An expired backup counts as gone, and the next changing call removes
/// its record and its archive.
pub(super) fn expired_backups_go(ctx: &Ctx) -> Outcome {
    let clock = TestClock::at(utc(2024, 7, 1, 0, 0, 0));
    let inv = ctx.scratch.invocation(clock.clone());
    let short = ctx.runtime.create(&inv, "short-lived", Some(clock.now() + Duration::hours(1))).answer("create")?;
    let kept = ctx.runtime.create(&inv, "kept", Some(clock.now() + Duration::days(30))).answer("create")?;
    clock.advance(Duration::hours(2));
    ctx.runtime.get(&inv, short.id).refused_as(Kind::NotFound, "get of an expired backup")?;
    let archive = ctx.scratch.dirs.backups.join(&short.name);
    let fresh = ctx.runtime.create(&inv, "fresh", None).answer("create")?;
    let ids: Vec<u64> = ctx.runtime.list(&inv, None, 10, 0).answer("list")?.backups.iter().map(|b| b.id).collect();
    ensure!(ids == [fresh.id, kept.id], "list after expiry answers {ids:?}, not {:?}", [fresh.id, kept.id]);
    ensure!(!archive.exists(), "the expired backup's archive {} is still there after a create", short.name);
    Ok(())
}

/// Ids are never reused, also after a delete; `delete` removes the
/// archive; deleting twice is `not-found`.
pub(super) fn ids_never_reused(ctx: &Ctx) -> Outcome {
    let inv = ctx.scratch.invocation(TestClock::at(utc(2024, 8, 1, 8, 0, 0)));
    let a = ctx.runtime.create(&inv, "a", None).answer("create")?;
    let b = ctx.runtime.create(&inv, "b", None).answer("create")?;
    ensure!(b.id > a.id, "the second backup has id {}, the first {}", b.id, a.id);
    ctx.runtime.delete(&inv, b.id).answer("delete")?;
    ensure!(!ctx.scratch.dirs.backups.join(&b.name).exists(), "delete left the archive {}", b.name);
    ctx.runtime.get(&inv, b.id).refused_as(Kind::NotFound, "get of a deleted backup")?;
    ctx.runtime.delete(&inv, b.id).refused_as(Kind::NotFound, "a second delete")?;
    let c = ctx.runtime.create(&inv, "c", None).answer("create")?;
    ensure!(c.id > b.id, "a backup made after deleting id {} got id {}", b.id, c.id);
    Ok(())
}

/// `verify` passes an intact archive and reports one with a changed byte
/// as `ok: false` with problems, not as an error.
pub(super) fn verify_intact_and_damaged(ctx: &Ctx) -> Outcome {
    ctx.scratch.fill(4, true)?;
    let inv = ctx.scratch.invocation(TestClock::at(utc(2024, 9, 1, 8, 0, 0)));
    let backup = ctx.runtime.create(&inv, "", None).answer("create")?;
    let report = ctx.runtime.verify(&inv, backup.id).answer("verify")?;
    ensure!(
        report.ok && report.problems.is_empty(),
        "verify of an intact archive reports {} problem(s), the first: {:?}",
        report.problems.len(),
        report.problems.first()
    );
    ensure!(
        report.files_checked > 10 && report.bytes_checked > 3 * 1024 * 1024,
        "verify checked {} files of {} bytes; the backup holds more than 10 files and 3 MiB",
        report.files_checked,
        report.bytes_checked
    );
    super::hostile::flip_middle_byte(&ctx.scratch.dirs.backups.join(&backup.name))?;
    let report = ctx.runtime.verify(&inv, backup.id).answer("verify of a damaged archive")?;
    ensure!(!report.ok && !report.problems.is_empty(), "verify of an archive with a changed byte reports ok");
    Ok(())
}
