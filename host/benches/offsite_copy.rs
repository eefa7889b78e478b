//! Benchmark: offsite copies of one archive to a real S3-compatible server
//! (`s3s-fs` on loopback, installed by `tests/install_s3s.sh` when missing),
//! plain and age-encrypted, and the fetch back with its SHA-256 check, beside
//! what the same disk and CPU do without S3: `cp` of the file into the
//! bucket's folder, `sha256sum` of it, and (for the encrypted side) both.
//! Each figure is the range over `KINESIS_BENCH_RUNS` runs (3 by default).
//!
//! Run with `cargo bench -p kinesis-backup --bench offsite_copy`. The archive
//! is ~500 MiB of random bytes (an archive does not compress further);
//! `KINESIS_BENCH_SCALE=0.1` makes it ten times smaller. Peak RSS is that of
//! the `s3s-fs` process and of this one (the host side of the copies).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kinesis_backup_core::model::{Backup, OffsiteState};
use kinesis_backup_core::offsite::{Mode, Offsite, OffsiteConfig};
use kinesis_backup_core::tenant::{Access, Tenant};
use sha2::Digest;

#[allow(dead_code)]
#[path = "support/data_set.rs"]
mod data_set;
#[path = "support/proc_status.rs"]
mod proc_status;
#[allow(dead_code)]
#[path = "../../tests/support/s3.rs"]
mod s3;

use data_set::MIB;
use proc_status::status_mib;
const NAME: &str = "backup-20300101_0000_1.tar.gz";

fn main() {
    let scale: f64 = std::env::var("KINESIS_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let runs: usize = std::env::var("KINESIS_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let installed = Command::new("bash").arg(repo.join("tests/install_s3s.sh")).status().expect("bash runs");
    assert!(installed.success(), "s3s-fs could not be installed");

    let work = tempfile::Builder::new().prefix("kinesis-offsite-bench-").tempdir_in(repo.join("target")).unwrap();
    let root = work.path().join("shop");
    let tenant = Tenant::open(&root, Access::Write).expect("the tenant folder opens");
    let mib = ((500.0 * scale) as u64).max(1);
    let backup = write_archive(&tenant.dirs().backups.join(NAME), mib);
    println!("archive: {mib} MiB of random bytes; {runs} runs");

    let server = s3::S3Server::start();
    for (key, value) in server.env() {
        // SAFETY: set before any thread of this process reads the environment.
        unsafe { std::env::set_var(key, value) };
    }
    let identity = age::x25519::Identity::generate();
    let key_file = work.path().join("offsite.key");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(&key_file, identity.to_string().expose_secret()).unwrap();
    }
    let recipient = identity.to_public().to_string();

    let mut table = Table::default();
    for run in 1..=runs {
        println!("run {run} of {runs}");
        let archive = tenant.dirs().backups.join(NAME);
        let into_bucket = server.bucket_dir().join(s3::BUCKET).join("baseline");
        std::fs::create_dir_all(&into_bucket).unwrap();
        table.add(
            "baseline: cp into the bucket's folder",
            timed(|| run_ok(Command::new("cp").arg(&archive).arg(&into_bucket))),
        );
        std::fs::remove_dir_all(&into_bucket).unwrap();
        table.add("baseline: sha256sum", timed(|| run_ok(Command::new("sha256sum").arg(&archive))));
        for (label, recipient) in [("plain", None), ("age-encrypted", Some(recipient.as_str()))] {
            let target = format!("s3://{}/bench-{run}", s3::BUCKET);
            let config = OffsiteConfig::parse(&target, label, recipient, Some(&key_file)).unwrap();
            let offsite = Offsite::open(&tenant, config, Mode::Foreground);
            let copy = timed(|| {
                offsite.copy(&backup);
                offsite.run_pending();
            });
            assert_eq!(offsite.status(backup.id).state, OffsiteState::Copied, "the {label} copy failed");
            table.add(&format!("copy, {label}"), copy);

            let kept = work.path().join(NAME);
            std::fs::rename(&archive, &kept).unwrap();
            let record = offsite.remote_record(backup.id).expect("the record is in the bucket");
            table.add(&format!("fetch and check, {label}"), timed(|| offsite.fetch(&record).expect("the fetch")));
            assert!(archive.is_file(), "the fetch put the archive back");
            std::fs::remove_file(&kept).unwrap();
            drop(offsite);
            std::fs::remove_file(tenant.work().offsite_state()).unwrap();
        }
    }
    table.print(mib);
    let s3_peak = server.pid().map_or(0.0, |pid| status_mib(pid, "VmHWM:"));
    println!("peak RSS: s3s-fs {s3_peak:.0} MiB, this process {:.0} MiB", status_mib(std::process::id(), "VmHWM:"));
}

/// Writes `mib` MiB of reproducible random bytes to `path`; the record of a
/// backup with that archive.
fn write_archive(path: &Path, mib: u64) -> Backup {
    data_set::write_random(path, mib * MIB);
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut std::fs::File::open(path).unwrap(), &mut hasher).unwrap();
    Backup {
        id: 1,
        name: NAME.into(),
        created_at: chrono::Utc::now(),
        description: String::new(),
        expiry: None,
        size: mib * MIB,
        sha256: hex::encode(hasher.finalize()),
        schedule_id: None,
    }
}

/// How long `work` takes.
fn timed(work: impl FnOnce()) -> Duration {
    let started = Instant::now();
    work();
    started.elapsed()
}

/// Runs `command`, which must succeed.
fn run_ok(command: &mut Command) {
    let output = command.output().expect("the command starts");
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Each measurement's times over the runs, in the order first added.
#[derive(Default)]
struct Table {
    rows: Vec<(String, Vec<Duration>)>,
}

impl Table {
    fn add(&mut self, label: &str, took: Duration) {
        match self.rows.iter_mut().find(|(name, _)| name == label) {
            Some((_, times)) => times.push(took),
            None => self.rows.push((label.to_owned(), vec![took])),
        }
    }

    fn print(&self, mib: u64) {
        println!("{:<40} {:>17} {:>17}", "", "seconds", "MiB/s");
        for (label, times) in &self.rows {
            let low = times.iter().min().unwrap().as_secs_f64();
            let high = times.iter().max().unwrap().as_secs_f64();
            println!(
                "{label:<40} {:>17} {:>17}",
                format!("{low:.2}–{high:.2}"),
                format!("{:.0}–{:.0}", mib as f64 / high, mib as f64 / low)
            );
        }
    }
}
