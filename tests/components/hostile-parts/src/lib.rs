//! A plugin of contract 1.1.0 that misuses the `parts` interface, for the
//! tests of how the host runs jobs. Its `plugin` interface backs nothing
//! up. What a create job does is chosen by the description given to
//! `begin-create`:
//!
//! | description | behaviour |
//! | --- | --- |
//! | `too-many-parts` | plans 100 000 parts |
//! | `huge-state` | plans a job whose state is 20 MiB |
//! | `huge-outcomes` | plans 8 parts; each answers an outcome of 15 MiB |
//! | `wrong-id` | plans job 7; `finish-create` answers backup 8 |
//! | `stall-part` | plans 2 parts; part 1 loops forever without reporting progress |
//! | `trap-part` | plans 2 parts; part 1 panics |
//! | `slow-abandon` | plans 1 part, which fails; `abandon` loops forever |
//! | anything else | plans 3 parts; each answers its own number; `finish-create` answers backup `id` (a proper record) when the outcomes came in part order, else an error |
//!
//! `abandon` (but for `slow-abandon`) writes `backups/abandoned-<id>`, so
//! the tests see that it was called. Restore and verify jobs are not
//! planned (`not-found`).

wit_bindgen::generate!({
    path: "../../../wit/v1.1.0",
    world: "backup-plugin",
});

use exports::kinesis::backup::parts::{Guest as PartsGuest, Job};
use exports::kinesis::backup::plugin::Guest;
use kinesis::backup::host;
use kinesis::backup::types::{
    Backup, BackupPage, Error, ExpiryChange, RestoreReport, Schedule, ScheduleInput, SchedulePatch, TickReport,
    Timestamp, VerifyReport,
};

struct Component;

fn not_found(id: u64) -> Error {
    Error::NotFound(format!("no backup {id}"))
}

/// The job `description` asks for, its number of parts and its state.
fn planned(description: &str) -> (u64, u32, Vec<u8>) {
    match description {
        "too-many-parts" => (1, 100_000, description.as_bytes().to_vec()),
        "huge-state" => (1, 1, vec![b's'; 20 << 20]),
        "huge-outcomes" => (1, 8, description.as_bytes().to_vec()),
        "wrong-id" => (7, 1, description.as_bytes().to_vec()),
        "stall-part" | "trap-part" => (1, 2, description.as_bytes().to_vec()),
        "slow-abandon" => (1, 1, description.as_bytes().to_vec()),
        _ => (1, 3, b"plain".to_vec()),
    }
}

/// A proper record of backup `id`, created at the host's `now`.
fn record(id: u64) -> Backup {
    let now = host::now();
    let stamp = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default().format("%Y%m%d_%H%M");
    Backup {
        id,
        name: format!("backup-{stamp}_{id}.tar.gz"),
        created_at: now,
        description: String::new(),
        expiry: None,
        size: 0,
        sha256: String::new(),
        schedule_id: None,
    }
}

impl PartsGuest for Component {
    fn begin_create(description: String, _expiry: Option<Timestamp>, _parts: u32) -> Result<Job, Error> {
        let (id, parts, state) = planned(&description);
        Ok(Job { id, parts, state })
    }

    fn begin_restore(id: u64, _parts: u32) -> Result<Job, Error> {
        Err(not_found(id))
    }

    fn begin_verify(id: u64, _parts: u32) -> Result<Job, Error> {
        Err(not_found(id))
    }

    fn run_part(job: Job, part: u32) -> Result<Vec<u8>, Error> {
        match (job.state.as_slice(), part) {
            (b"huge-outcomes", _) => Ok(vec![b'o'; 15 << 20]),
            (b"stall-part", 1) => loop {
                std::hint::black_box(part);
            },
            (b"trap-part", 1) => panic!("part 1 gave up"),
            (b"slow-abandon", _) => Err(Error::Storage("the part failed on purpose".to_string())),
            _ => Ok(part.to_le_bytes().to_vec()),
        }
    }

    fn finish_create(job: Job, outcomes: Vec<Vec<u8>>) -> Result<Backup, Error> {
        if job.state == b"wrong-id" {
            return Ok(record(8));
        }
        let in_order = outcomes.iter().enumerate().all(|(i, o)| o.as_slice() == (i as u32).to_le_bytes());
        if !in_order || outcomes.len() != job.parts as usize {
            return Err(Error::Storage(format!("outcomes out of order: {outcomes:?}")));
        }
        Ok(record(job.id))
    }

    fn finish_restore(job: Job, _outcomes: Vec<Vec<u8>>) -> Result<RestoreReport, Error> {
        Err(not_found(job.id))
    }

    fn finish_verify(job: Job, _outcomes: Vec<Vec<u8>>) -> Result<VerifyReport, Error> {
        Err(not_found(job.id))
    }

    fn abandon(job: Job) {
        if job.state == b"slow-abandon" {
            loop {
                std::hint::black_box(job.id);
            }
        }
        let _ = std::fs::write(format!("backups/abandoned-{}", job.id), b"");
    }
}

impl Guest for Component {
    fn create(_description: String, _expiry: Option<Timestamp>) -> Result<Backup, Error> {
        Ok(record(1))
    }
    fn list(_search: Option<String>, _limit: u32, _offset: u32) -> Result<BackupPage, Error> {
        Ok(BackupPage { backups: Vec::new(), total: 0 })
    }
    fn get(id: u64) -> Result<Backup, Error> {
        Err(not_found(id))
    }
    fn update(id: u64, _description: Option<String>, _expiry: ExpiryChange) -> Result<Backup, Error> {
        Err(not_found(id))
    }
    fn restore(id: u64) -> Result<RestoreReport, Error> {
        Err(not_found(id))
    }
    fn delete(id: u64) -> Result<(), Error> {
        Err(not_found(id))
    }
    fn verify(id: u64) -> Result<VerifyReport, Error> {
        Err(not_found(id))
    }
    fn schedule_create(_input: ScheduleInput) -> Result<Schedule, Error> {
        Err(Error::InvalidInput("no schedules here".to_string()))
    }
    fn schedule_list(_limit: u32, _offset: u32) -> Result<(Vec<Schedule>, u64), Error> {
        Ok((Vec::new(), 0))
    }
    fn schedule_update(id: u64, _patch: SchedulePatch) -> Result<Schedule, Error> {
        Err(Error::NotFound(format!("no schedule {id}")))
    }
    fn schedule_delete(id: u64) -> Result<(), Error> {
        Err(Error::NotFound(format!("no schedule {id}")))
    }
    fn schedule_tick(_now: Timestamp) -> Result<TickReport, Error> {
        Ok(TickReport { created: Vec::new(), expired: Vec::new(), failed: Vec::new() })
    }
}

export!(Component);
