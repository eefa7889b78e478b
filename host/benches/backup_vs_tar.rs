//! Benchmark: the plugin's create and restore, on one instance and on two
//! (`--jobs`), against GNU `tar -czf`, `tar | pigz -6` and `tar -xzf` on the
//! same data, in the same run, repeated `KINESIS_BENCH_RUNS` times (3 by
//! default) with the range of each figure and the ratios to the goals.
//! `pigz` is installed with apt-get when it is missing.
//!
//! Run with `cargo bench -p kinesis-backup --bench backup_vs_tar`. It builds a
//! reproducible data set (by default ~500 MiB: about 60 % compressible text
//! and 40 % random bytes, ~2,000 files from 256 B to 1 MiB plus three of
//! 100 MiB) under `target/bench-data/`, then prints wall time, archive size
//! and peak RSS of each side. `KINESIS_BENCH_SCALE=0.1` makes everything ten
//! times smaller for a quick look.
//!
//! Peak RSS is the child process's `ru_maxrss` as reported by `wait4`, so the
//! plugin's figure is the whole host process: wasmtime, the compiled plugin
//! and the guest's linear memory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/data_set.rs"]
mod data_set;

use data_set::{MIB, ensure_data_set};

fn main() {
    let scale: f64 = std::env::var("KINESIS_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let runs: usize = std::env::var("KINESIS_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kinesis-backup"));
    let work = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    let source = work.join(format!("source-{scale}"));
    let total = ensure_data_set(&source, scale);
    println!("data set: {} files, {:.1} MiB in {}", total.files, total.bytes as f64 / MIB as f64, source.display());
    let pigz = ensure_pigz();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{cores} cores; {runs} runs; pigz: {}", if pigz { "yes" } else { "missing, skipped" });

    // One call first, so the measured runs load the cached compiled plugin as
    // every start after the first does, instead of compiling it.
    let _ = fs::remove_dir_all(source.join("backups"));
    measure(Command::new(&bin).arg("--root").arg(&source).args(["backup", "list"]));

    let mut table = Table::default();
    for run in 1..=runs {
        println!("run {run} of {runs}");
        one_run(&bin, &work, &source, pigz, &mut table);
    }
    table.print();
}

/// Every measurement once, on the same data, in the same run.
fn one_run(bin: &Path, work: &Path, source: &Path, pigz: bool, table: &mut Table) {
    let roots = [".env", "data", "public", "translations"];
    let tar_out = work.join("gnu.tar.gz");
    let _ = fs::remove_file(&tar_out);
    let tar_create = measure(Command::new("tar").arg("-czf").arg(&tar_out).arg("-C").arg(source).args(roots));
    table.add("create: tar -czf", &tar_create, Some(fs::metadata(&tar_out).expect("tar wrote its archive").len()));

    if pigz {
        let pigz_out = work.join("pigz.tar.gz");
        let script = format!(
            "tar -cf - -C '{}' .env data public translations | pigz -6 > '{}'",
            source.display(),
            pigz_out.display()
        );
        let measured = measure(Command::new("sh").arg("-c").arg(script));
        table.add("create: tar | pigz -6", &measured, Some(fs::metadata(&pigz_out).expect("pigz output").len()));
        let _ = fs::remove_file(&pigz_out);
    }

    let tar_dest = work.join("gnu-extract");
    let _ = fs::remove_dir_all(&tar_dest);
    fs::create_dir_all(&tar_dest).expect("create the extraction folder");
    let tar_restore = measure(Command::new("tar").arg("-xzf").arg(&tar_out).arg("-C").arg(&tar_dest));
    table.add("restore: tar -xzf", &tar_restore, None);
    let _ = fs::remove_dir_all(&tar_dest);
    let _ = fs::remove_file(&tar_out);

    // The plugin, through the CLI (one process per operation, as an operator
    // runs it), on one instance and on two.
    let mut last_id = 0;
    for jobs in ["1", "2"] {
        let created = measure(Command::new(bin).arg("--root").arg(source).args([
            "--json",
            "--jobs",
            jobs,
            "backup",
            "create",
            "--description",
            "benchmark",
        ]));
        let record: serde_json::Value =
            serde_json::from_slice(&created.stdout).expect("create prints the backup as JSON");
        let backup = record.get("backup").unwrap_or(&record);
        last_id = backup["id"].as_u64().expect("the backup has an id");
        let size = backup["size"].as_u64().expect("the backup has a size");
        table.add(&format!("create: plugin --jobs {jobs}"), &created, Some(size));
    }
    for jobs in ["1", "2"] {
        let restored = measure(Command::new(bin).arg("--root").arg(source).args([
            "--json",
            "--jobs",
            jobs,
            "backup",
            "restore",
            &last_id.to_string(),
        ]));
        table.add(&format!("restore: plugin --jobs {jobs}"), &restored, None);
    }
    let _ = fs::remove_dir_all(source.join("backups"));
}

/// Whether `pigz` can be run, installing Debian's package when it is
/// missing and this process may.
fn ensure_pigz() -> bool {
    let present = || Command::new("pigz").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if present().is_ok_and(|s| s.success()) {
        return true;
    }
    println!("pigz is missing; installing it with apt-get");
    let installed = Command::new("sh")
        .arg("-c")
        .arg("(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pigz) >/dev/null 2>&1")
        .status();
    installed.is_ok_and(|s| s.success()) && present().is_ok_and(|s| s.success())
}

/// One measurement: wall seconds, archive size, peak RSS in MiB.
type Figures = (f64, Option<u64>, f64);

/// Every figure of every run, by row.
#[derive(Default)]
struct Table {
    rows: Vec<(String, Vec<Figures>)>,
}

impl Table {
    fn add(&mut self, label: &str, m: &Measured, size: Option<u64>) {
        let figures = (m.wall.as_secs_f64(), size, m.peak_rss_kib as f64 / 1024.0);
        println!("  {label:<26} {:>7.2} s", figures.0);
        match self.rows.iter_mut().find(|(l, _)| l == label) {
            Some((_, all)) => all.push(figures),
            None => self.rows.push((label.to_string(), vec![figures])),
        }
    }

    /// The lowest and highest wall time of `label`, and its median.
    fn wall(&self, label: &str) -> Option<(f64, f64, f64)> {
        let (_, all) = self.rows.iter().find(|(l, _)| l == label)?;
        let mut walls: Vec<f64> = all.iter().map(|f| f.0).collect();
        walls.sort_by(f64::total_cmp);
        Some((walls[0], walls[walls.len() / 2], walls[walls.len() - 1]))
    }

    fn size(&self, label: &str) -> Option<u64> {
        self.rows.iter().find(|(l, _)| l == label).and_then(|(_, all)| all[0].1)
    }

    fn print(&self) {
        println!();
        println!("{:<28} {:>20} {:>12} {:>16}", "", "wall s (min-max)", "size MiB", "peak RSS MiB");
        for (label, all) in &self.rows {
            let (min, _, max) = self.wall(label).expect("a row has figures");
            let size = all[0].1.map_or(String::new(), |s| format!("{:.1}", s as f64 / MIB as f64));
            let rss = all.iter().map(|f| f.2).fold(0.0, f64::max);
            println!("{label:<28} {:>20} {size:>12} {rss:>16.1}", format!("{min:.2}-{max:.2}"));
        }
        println!();
        let ratio = |a: &str, b: &str| match (self.wall(a), self.wall(b)) {
            (Some(a), Some(b)) => format!("{:.2}x (median; {:.2}x-{:.2}x)", a.1 / b.1, a.0 / b.2, a.2 / b.0),
            _ => "n/a".to_string(),
        };
        println!(
            "create  --jobs 2 / tar|pigz -6 : {}   goal <= 1.0x",
            ratio("create: plugin --jobs 2", "create: tar | pigz -6")
        );
        println!("create  --jobs 1 / tar -czf    : {}", ratio("create: plugin --jobs 1", "create: tar -czf"));
        println!(
            "restore --jobs 2 / tar -xzf    : {}   goal <= 0.7x",
            ratio("restore: plugin --jobs 2", "restore: tar -xzf")
        );
        println!("restore --jobs 1 / tar -xzf    : {}", ratio("restore: plugin --jobs 1", "restore: tar -xzf"));
        if let (Some(plugin), Some(gzip)) = (self.size("create: plugin --jobs 2"), self.size("create: tar -czf")) {
            println!("size    plugin / gzip -6       : {:.3}x   goal <= 1.0x", plugin as f64 / gzip as f64);
        }
    }
}

/// What one measured process did.
struct Measured {
    wall: Duration,
    peak_rss_kib: u64,
    stdout: Vec<u8>,
}

/// Runs `cmd` to completion and returns its wall time, peak RSS and output;
/// panics with its stderr when it fails.
fn measure(cmd: &mut Command) -> Measured {
    // Write back what earlier steps left dirty, so that no step pays for the
    // one before it.
    // SAFETY: sync has no preconditions.
    unsafe { libc::sync() };
    let start = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the measured command");
    let pid = child.id() as libc::pid_t;
    // Read the pipes on threads so a chatty child cannot block on a full pipe.
    let mut child = child;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut buf).map(|_| buf)
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut buf).map(|_| buf)
    });
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data that wait4 fills in; pid is our child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(waited, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    let stdout = out_reader.join().expect("stdout reader").expect("read stdout");
    let stderr = err_reader.join().expect("stderr reader").expect("read stderr");
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    assert!(ok, "{cmd:?} failed: {}", String::from_utf8_lossy(&stderr));
    Measured { wall, peak_rss_kib: usage.ru_maxrss as u64, stdout }
}
