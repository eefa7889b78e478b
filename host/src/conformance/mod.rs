//! The conformance suite for backup plugins: the cases `kinesis-backup
//! plugin check` runs against any component, and `tests/conformance.rs`
//! runs through the same [`check`], so the two cannot drift apart.
//!
//! Each case runs in its own throwaway tenant with generated files, with its
//! own loaded runtime (memory limit and call deadlines from
//! [`CheckOptions`]), on its own thread under a deadline of its own: when a
//! case overruns it, its runtime is shut down, which stops the running call
//! at once. A case ends with a reason in words, never a panic.
//!
//! A case relies only on what the contract (`wit/`) and the author's guide
//! (`docs/plugins.md`) promise; what one plugin does beyond that belongs to
//! that plugin's own tests. The guide lists the cases.

pub mod archive;
mod backups;
pub mod clock;
mod fail;
mod hostile;
mod runner;
mod schedules;
pub mod scratch;
pub mod tree;

use std::path::PathBuf;
use std::time::Duration;

use kinesis_backup_core::runtime::{Runtime, RuntimeOptions};
use serde::Serialize;

pub use fail::Outcome;
pub use runner::{Checker, check};

/// What a case runs against: a loaded runtime of the plugin and a fresh
/// tenant.
pub struct Ctx<'a> {
    /// The plugin under check.
    pub runtime: &'a Runtime,
    /// The case's throwaway tenant.
    pub scratch: scratch::Scratch,
}

/// One conformance case.
#[derive(Clone, Copy)]
pub struct Case {
    /// Its name, as printed.
    pub name: &'static str,
    /// What it checks, in a few words.
    pub checks: &'static str,
    /// The check itself.
    pub run: fn(&Ctx) -> Outcome,
}

/// Every case, in the order they run.
pub const CASES: &[Case] = &[
    Case {
        name: "empty-tenant",
        checks: "a new tenant lists no backups or schedules; unknown ids are not-found",
        run: backups::empty_tenant,
    },
    Case {
        name: "restore-round-trip",
        checks: "restore into empty folders gives back .env, data, public, translations byte for byte",
        run: backups::restore_round_trip,
    },
    Case {
        name: "archive-format",
        checks: "backup-YYYYMMDD_HHMM_ID.tar.gz, size and sha256 of the file, a gzip'd tar of the tenant",
        run: backups::archive_format,
    },
    Case {
        name: "list-search-and-pages",
        checks: "newest first, pages, case-insensitive search, limit 1 to 1000",
        run: backups::list_search_and_pages,
    },
    Case {
        name: "update-description-and-expiry",
        checks: "set, keep and clear an expiry; one in the past is invalid-input and changes nothing",
        run: backups::update_description_and_expiry,
    },
    Case {
        name: "expired-backups-go",
        checks: "an expired backup is not-found and the next change removes it and its archive",
        run: backups::expired_backups_go,
    },
    Case {
        name: "ids-never-reused",
        checks: "delete removes the archive; ids are never reused",
        run: backups::ids_never_reused,
    },
    Case {
        name: "verify-intact-and-damaged",
        checks: "verify passes an intact archive and reports a changed byte as ok: false",
        run: backups::verify_intact_and_damaged,
    },
    Case {
        name: "schedule-runs-when-due",
        checks: "a weekly schedule runs once when due, however many runs were missed",
        run: schedules::schedule_runs_when_due,
    },
    Case {
        name: "schedule-change-and-delete",
        checks: "disabled schedules never run; patches change what they give; deletes keep backups",
        run: schedules::schedule_change_and_delete,
    },
    Case {
        name: "schedule-refuses-bad-input",
        checks: "bad crons, an empty name, expiry-hours 0 are invalid-input and create nothing",
        run: schedules::schedule_refuses_bad_input,
    },
    Case {
        name: "refuses-parent-dir-entry",
        checks: "restore of an archive with a `..` entry is corrupt-archive and changes nothing",
        run: hostile::parent_dir_entry,
    },
    Case {
        name: "refuses-absolute-path",
        checks: "restore of an archive with an absolute path is corrupt-archive and writes nothing",
        run: hostile::absolute_path,
    },
    Case {
        name: "refuses-symlink",
        checks: "restore of an archive with a symbolic link is corrupt-archive",
        run: hostile::symlink,
    },
    Case {
        name: "refuses-hardlink",
        checks: "restore of an archive with a hard link is corrupt-archive",
        run: hostile::hardlink,
    },
    Case {
        name: "refuses-truncated-archive",
        checks: "restore of a truncated gzip stream is corrupt-archive",
        run: hostile::truncated_gzip,
    },
    Case {
        name: "refuses-trailing-garbage",
        checks: "restore of an archive with data after its end is corrupt-archive",
        run: hostile::trailing_garbage,
    },
    Case {
        name: "refuses-changed-byte",
        checks: "restore of an archive with one changed byte is corrupt-archive",
        run: hostile::flipped_byte,
    },
];

/// How a check runs: the limits of every plugin call, and of every case.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The runtime's limits (memory, deadlines, liveness, instances per
    /// job) and its cache of compiled plugins.
    pub runtime: RuntimeOptions,
    /// The longest one case may take; past it the case fails and its calls
    /// are stopped.
    pub case_deadline: Duration,
}

impl CheckOptions {
    /// The default memory limit (64 MiB, as the host grants), short call
    /// deadlines (15 s quick, 60 s long, progress every 15 s), two instances
    /// per create, restore or verify, 120 s per case, and compiled plugins
    /// cached in `cache_dir`.
    pub fn new(cache_dir: Option<PathBuf>) -> CheckOptions {
        CheckOptions {
            runtime: RuntimeOptions {
                quick_deadline: Duration::from_secs(15),
                long_deadline: Duration::from_secs(60),
                liveness: Duration::from_secs(15),
                max_instances: 4,
                jobs: 2,
                cache_dir,
                ..RuntimeOptions::default()
            },
            case_deadline: Duration::from_secs(120),
        }
    }
}

/// How one case went.
#[derive(Debug, Clone, Serialize)]
pub struct CaseOutcome {
    /// The case's name.
    pub name: &'static str,
    /// What it checks.
    pub checks: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed.
    pub reason: Option<String>,
    /// How long it took, in milliseconds.
    pub millis: u64,
}

/// What a check found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The plugin, as the runtime describes it (origin, contract version,
    /// SHA-256).
    pub plugin: String,
    /// The contract version it targets, e.g. `1.1.0`.
    pub contract: &'static str,
    /// Every case, in order.
    pub cases: Vec<CaseOutcome>,
}

impl Report {
    /// Whether every case passed.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|c| c.passed)
    }

    /// The cases that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CaseOutcome> {
        self.cases.iter().filter(|c| !c.passed)
    }
}
