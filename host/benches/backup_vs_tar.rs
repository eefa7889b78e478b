//! Benchmark: the plugin's create and restore against GNU `tar -czf` and
//! `tar -xzf` on the same data, in the same run.
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
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kinesis-backup"));
    let work = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    let source = work.join(format!("source-{scale}"));
    let total = ensure_data_set(&source, scale);
    println!("data set: {} files, {:.1} MiB in {}", total.files, total.bytes as f64 / MIB as f64, source.display());

    // GNU tar on the same folders.
    let tar_out = work.join("gnu.tar.gz");
    let _ = fs::remove_file(&tar_out);
    let tar_create = measure(Command::new("tar").arg("-czf").arg(&tar_out).arg("-C").arg(&source).args([
        ".env",
        "data",
        "public",
        "translations",
    ]));
    let tar_size = fs::metadata(&tar_out).expect("tar wrote its archive").len();
    let tar_dest = work.join("gnu-extract");
    let _ = fs::remove_dir_all(&tar_dest);
    fs::create_dir_all(&tar_dest).expect("create the extraction folder");
    let tar_restore = measure(Command::new("tar").arg("-xzf").arg(&tar_out).arg("-C").arg(&tar_dest));
    let _ = fs::remove_dir_all(&tar_dest);
    let _ = fs::remove_file(&tar_out);

    // The plugin, through the CLI (one process per operation, as an operator runs it).
    let _ = fs::remove_dir_all(source.join("backups"));
    // One call first, so the measured runs load the cached compiled plugin as
    // every start after the first does, instead of compiling it.
    measure(Command::new(&bin).arg("--root").arg(&source).args(["backup", "list"]));
    let plugin_create = measure(Command::new(&bin).arg("--root").arg(&source).args([
        "--json",
        "backup",
        "create",
        "--description",
        "benchmark",
    ]));
    let record: serde_json::Value =
        serde_json::from_slice(&plugin_create.stdout).expect("create prints the backup as JSON");
    let backup = record.get("backup").unwrap_or(&record);
    let id = backup["id"].as_u64().expect("the backup has an id");
    let plugin_size = backup["size"].as_u64().expect("the backup has a size");
    let plugin_restore =
        measure(Command::new(&bin).arg("--root").arg(&source).args(["--json", "backup", "restore", &id.to_string()]));
    let _ = fs::remove_dir_all(source.join("backups"));

    println!();
    println!("{:<22} {:>10} {:>14} {:>14}", "", "wall (s)", "size (MiB)", "peak RSS (MiB)");
    row("plugin create", &plugin_create, Some(plugin_size));
    row("tar -czf", &tar_create, Some(tar_size));
    row("plugin restore", &plugin_restore, None);
    row("tar -xzf", &tar_restore, None);
    println!();
    println!(
        "create: plugin/tar time {:.2}x, size {:.3}x; restore: plugin/tar time {:.2}x",
        plugin_create.wall.as_secs_f64() / tar_create.wall.as_secs_f64(),
        plugin_size as f64 / tar_size as f64,
        plugin_restore.wall.as_secs_f64() / tar_restore.wall.as_secs_f64(),
    );
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

fn row(label: &str, m: &Measured, size: Option<u64>) {
    let size = size.map_or("".to_string(), |s| format!("{:.1}", s as f64 / MIB as f64));
    println!("{:<22} {:>10.2} {:>14} {:>14.1}", label, m.wall.as_secs_f64(), size, m.peak_rss_kib as f64 / 1024.0);
}
