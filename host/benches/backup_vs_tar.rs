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
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEED: u64 = 0x4B49_4E45_5349_5321;
const MIB: u64 = 1024 * 1024;

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

/// Size of the generated data set.
struct Totals {
    files: u64,
    bytes: u64,
}

/// Builds the data set under `root` unless a complete one is already there.
fn ensure_data_set(root: &Path, scale: f64) -> Totals {
    let done = root.join(".complete");
    if let Ok(text) = fs::read_to_string(&done)
        && let Some((files, bytes)) = text.trim().split_once(' ')
        && let (Ok(files), Ok(bytes)) = (files.parse(), bytes.parse())
    {
        return Totals { files, bytes };
    }
    let _ = fs::remove_dir_all(root);
    let mut rng = Rng(SEED);
    let mut totals = Totals { files: 0, bytes: 0 };
    fs::create_dir_all(root.join("translations")).expect("create translations/");
    fs::write(root.join(".env"), "KINESIS_TOKEN_SECRET=benchmark\n").expect("write .env");
    let small_files = (2000.0 * scale).round().max(1.0) as u64;
    for i in 0..small_files {
        // 256 B to 1 MiB, log-uniform, so most files are small as in a real site.
        let exp = 8.0 + rng.next_f64() * 12.0;
        let size = 2f64.powf(exp) as u64;
        let top = if i % 10 == 0 { "translations" } else { "public" };
        let path = root.join(top).join(format!("d{:02}/f{i:05}.bin", i % 37));
        let text = rng.next_f64() < 0.6;
        write_file(&path, size, text, &mut rng);
        totals.files += 1;
        totals.bytes += size;
    }
    for (i, text) in [true, true, false].into_iter().enumerate() {
        let size = ((100 * MIB) as f64 * scale) as u64;
        write_file(&root.join(format!("data/big-{i}.db")), size, text, &mut rng);
        totals.files += 1;
        totals.bytes += size;
    }
    fs::write(&done, format!("{} {}\n", totals.files, totals.bytes)).expect("mark the data set");
    totals
}

/// Writes `size` bytes of either word-salad text or random bytes.
fn write_file(path: &Path, size: u64, text: bool, rng: &mut Rng) {
    const WORDS: [&str; 24] = [
        "backup",
        "restore",
        "kinesis",
        "record",
        "tenant",
        "schedule",
        "archive",
        "the",
        "a",
        "of",
        "data",
        "public",
        "translation",
        "value",
        "collection",
        "key",
        "user",
        "root",
        "expiry",
        "plugin",
        "wasm",
        "component",
        "manifest",
        "checksum",
    ];
    fs::create_dir_all(path.parent().expect("file has a parent")).expect("create folder");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(path).expect("create file"));
    let mut left = size;
    let mut chunk = Vec::with_capacity(64 * 1024);
    while left > 0 {
        chunk.clear();
        let want = left.min(64 * 1024) as usize;
        if text {
            while chunk.len() < want {
                let word = WORDS[(rng.next_u64() % WORDS.len() as u64) as usize];
                chunk.extend_from_slice(word.as_bytes());
                chunk.push(if rng.next_u64().is_multiple_of(12) { b'\n' } else { b' ' });
            }
            chunk.truncate(want);
        } else {
            while chunk.len() < want {
                chunk.extend_from_slice(&rng.next_u64().to_le_bytes());
            }
            chunk.truncate(want);
        }
        out.write_all(&chunk).expect("write data");
        left -= want as u64;
    }
    out.flush().expect("flush data");
}

/// A small xorshift generator: the same seed gives the same data set.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
