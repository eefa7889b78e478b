//! A backup plugin that misbehaves on purpose, for the runtime's limit tests.
//!
//! It implements the `kinesis:backup@1.0.0` world, so the host loads it like
//! any plugin, but it backs nothing up. What it does is chosen by the call:
//!
//! | call | behaviour |
//! | --- | --- |
//! | `list` with search `"loop"` | spins forever (the host's deadline must stop it) |
//! | `list` with search `"oom"` | allocates and touches memory until none is left |
//! | `list` with search `"trap"` | panics with the message `misbehaving plugin: asked to trap` |
//! | `list` with search `"now"` | answers one backup whose `created-at` is the host's `now` |
//! | `get(id)` | not-found, naming the id |
//! | anything else | empty results |

wit_bindgen::generate!({
    path: "../../../wit/v1.0.0",
    world: "backup-plugin",
});

use exports::kinesis::backup::plugin::Guest;
use kinesis::backup::host;
use kinesis::backup::types::{
    Backup, BackupPage, Error, ExpiryChange, RestoreReport, Schedule, ScheduleInput, SchedulePatch, TickReport,
    Timestamp, VerifyReport,
};

/// The component's implementation of the contract.
struct Misbehaving;

/// Spins without end; only the host's epoch deadline can stop it.
fn spin_forever() -> ! {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

/// Allocates 1 MiB blocks and writes to each until the allocator fails
/// (which aborts, as Rust does when memory runs out).
fn eat_memory() -> ! {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = vec![0u8; 1 << 20];
        block[0] = blocks.len() as u8;
        blocks.push(std::hint::black_box(block));
    }
}

/// A backup record whose creation time is the host's clock, so a test can
/// see that the `now` import works.
fn record_at(now: Timestamp) -> Backup {
    Backup {
        id: 1,
        name: "backup-19700101_0000_1.tar.gz".to_string(),
        created_at: now,
        description: "made up by the misbehaving plugin".to_string(),
        expiry: None,
        size: 0,
        sha256: String::new(),
        schedule_id: None,
    }
}

impl Guest for Misbehaving {
    fn create(_description: String, _expiry: Option<Timestamp>) -> Result<Backup, Error> {
        Err(Error::Storage("the misbehaving plugin makes no backups".to_string()))
    }

    fn list(search: Option<String>, _limit: u32, _offset: u32) -> Result<BackupPage, Error> {
        match search.as_deref() {
            Some("loop") => spin_forever(),
            Some("oom") => eat_memory(),
            Some("trap") => panic!("misbehaving plugin: asked to trap"),
            Some("now") => Ok(BackupPage { backups: vec![record_at(host::now())], total: 1 }),
            _ => Ok(BackupPage { backups: Vec::new(), total: 0 }),
        }
    }

    fn get(id: u64) -> Result<Backup, Error> {
        Err(Error::NotFound(format!("no backup has the id {id}")))
    }

    fn update(id: u64, _description: Option<String>, _expiry: ExpiryChange) -> Result<Backup, Error> {
        Err(Error::NotFound(format!("no backup has the id {id}")))
    }

    fn restore(id: u64) -> Result<RestoreReport, Error> {
        Err(Error::NotFound(format!("no backup has the id {id}")))
    }

    fn delete(id: u64) -> Result<(), Error> {
        Err(Error::NotFound(format!("no backup has the id {id}")))
    }

    fn verify(id: u64) -> Result<VerifyReport, Error> {
        Err(Error::NotFound(format!("no backup has the id {id}")))
    }

    fn schedule_create(_input: ScheduleInput) -> Result<Schedule, Error> {
        Err(Error::Storage("the misbehaving plugin keeps no schedules".to_string()))
    }

    fn schedule_list(_limit: u32, _offset: u32) -> Result<(Vec<Schedule>, u64), Error> {
        Ok((Vec::new(), 0))
    }

    fn schedule_update(id: u64, _patch: SchedulePatch) -> Result<Schedule, Error> {
        Err(Error::NotFound(format!("no schedule has the id {id}")))
    }

    fn schedule_delete(id: u64) -> Result<(), Error> {
        Err(Error::NotFound(format!("no schedule has the id {id}")))
    }

    fn schedule_tick(_now: Timestamp) -> Result<TickReport, Error> {
        Ok(TickReport { created: Vec::new(), expired: Vec::new(), failed: Vec::new() })
    }
}

export!(Misbehaving);
