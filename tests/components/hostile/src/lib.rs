//! A backup plugin that behaves like a hostile third-party plugin, for the
//! tests of the host's sandbox and of its distrust of answers.
//!
//! It implements the `kinesis:backup@1.0.0` world, so the host loads it like
//! any plugin, but it backs nothing up. What it does is chosen by the call:
//!
//! | call | behaviour |
//! | --- | --- |
//! | `list` with search `"log-flood"` | calls `log` 200 000 times with a 60 KB message each, then answers an empty page (total 0) |
//! | `list` with search `"big-page"` | answers 50 000 well-formed records (ids 1.., 200-char descriptions) with total `u64::MAX`, whatever the limit |
//! | `list` with search `"bad-names"` | answers id 1 named `../../../etc/passwd`, id 2 named `backup-20300101_0000_3.tar.gz` (another id's name), id 4 named `backup-20300101_0000_4.tar.gz` created at `i64::MAX`; total 3 |
//! | `list` with search `"long-strings"` | answers one valid record (id 1) whose description is 8 MiB of `x`; total 1 |
//! | `list` with search `"probe"` | runs the sandbox probes below and answers one record per probe (ids 1.., `backup-19700101_0000_{id}.tar.gz`) described `probe:<name>:<ok\|refused>:<detail>` |
//! | `list` with any other search | an empty page, total 0 |
//! | `get(1)` | a record named `../../../etc/passwd` |
//! | `get(2)` | a record about id 3 (`backup-20300101_0000_3.tar.gz`), not the id asked |
//! | `get(10)`, `get(11)` | a well-formed record of that id (so that a restore of it reaches the plugin) |
//! | `get(999)` | error `storage` whose message is 40 MiB of `e` |
//! | `get` of any other id | `not-found("no backup {id}")` |
//! | `create` with description `"spin"` | loops forever without calling any import |
//! | `create` with description `"spin-with-progress"` | loops forever, calling `progress(n, n + 1)` every 2^20 iterations |
//! | `create` with description `"huge-error"` | error `storage` with a 40 MiB message |
//! | `create` with description `"name-traversal"` | a record id 5 named `../backups/../../.env` |
//! | `create` with description `"mismatched-id"` | a record id 5 named `backup-20300101_0000_6.tar.gz` |
//! | `create` with any other description | a record id 1 named `backup-{YYYYMMDD_HHMM of host now}_1.tar.gz`, created at the host's `now`, size 0, SHA-256 of nothing |
//! | `restore(10)` | plants symlinks `data/escape` -> `/etc/passwd` and `public/up` -> `../../..`, writes `translations/en.json` = `{}`, answers id 10, 1 file, 2 bytes |
//! | `restore(11)` | writes `data/kinesis.redb` (4096 bytes of 0x55), calls `write-env("A=1\n")`, answers id 11, 2 files, 4100 bytes |
//! | `restore` of any other id | `not-found` |
//! | `verify(id)` | a report `ok: false` with 20 000 problems of 1000 characters each |
//! | `schedule-list` | 100 000 schedules (name `s`, cron `* * * * *`, enabled, next run 0), total 100 000, whatever the limit |
//! | `schedule-tick` | loops forever without calling any import |
//! | `update`, `delete`, `schedule-update`, `schedule-delete` | `not-found`, naming the id |
//! | `schedule-create` | `invalid-input("hostile plugin")` |
//!
//! The sandbox probes of `list("probe")`; `ok` means the forbidden thing
//! worked (a hole in the sandbox), `refused` that it was denied, and the
//! detail is the error text (at most 200 characters):
//!
//! | probe | what it tries |
//! | --- | --- |
//! | `read-outside-dotdot` | reads `backups/../.env`, then `data/../../etc/passwd` |
//! | `read-absolute` | reads `/etc/passwd` with std, then opens it with WASI `open-at` relative to `data/` (wasi-libc refuses the first without asking the host) |
//! | `write-data` | creates `data/probe.txt` (read-only outside restore) |
//! | `write-public` | creates `public/probe.txt` (read-only outside restore) |
//! | `write-backups` | creates and removes `backups/probe.txt` (allowed: `ok` is the right answer) |
//! | `env-vars` | `ok` when the component sees any environment variable |
//! | `args` | `ok` when the component sees more than one argument |
//! | `network` | binds a TCP listener on 127.0.0.1:0, connects to 127.0.0.1:9 (a refused connection counts as reaching the network), binds UDP and sends a datagram |
//! | `write-env` | calls the host's `write-env("X=1")` outside restore |
//! | `symlink-escape` | creates `backups/link` -> `..` and reads `backups/link/.env`, then `backups/link` -> `../..` and lists `backups/link`; removes the link |

wit_bindgen::generate!({
    path: "../../../wit/v1.0.0",
    world: "backup-plugin",
});

use exports::kinesis::backup::plugin::Guest;
use kinesis::backup::host::{self, LogLevel};
use kinesis::backup::types::{
    Backup, BackupPage, Error, ExpiryChange, RestoreReport, Schedule, ScheduleInput, SchedulePatch, TickReport,
    Timestamp, VerifyReport,
};

/// The component's implementation of the contract.
struct Hostile;

/// SHA-256 of no bytes at all, lowercase hex.
const SHA256_OF_NOTHING: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Spins without end and calls no import; only the host's epoch deadline
/// can stop it.
fn spin_forever() -> ! {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

/// Spins without end, reporting "progress" every 2^20 iterations, as a
/// plugin that pretends to work would.
fn spin_with_progress() -> ! {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
        if counter.is_multiple_of(1 << 20) {
            let n = counter >> 20;
            host::progress(n, n + 1);
        }
    }
}

/// A backup record with the given parts; no expiry, no schedule.
fn record(id: u64, name: impl Into<String>, created_at: Timestamp, description: impl Into<String>) -> Backup {
    Backup {
        id,
        name: name.into(),
        created_at,
        description: description.into(),
        expiry: None,
        size: 0,
        sha256: SHA256_OF_NOTHING.to_string(),
        schedule_id: None,
    }
}

/// An empty page.
fn empty_page() -> BackupPage {
    BackupPage { backups: Vec::new(), total: 0 }
}

/// `log-flood`: 200 000 log lines of 60 KB each.
fn log_flood() -> BackupPage {
    let message = "L".repeat(60 * 1000);
    for _ in 0..200_000 {
        host::log(LogLevel::Info, &message);
    }
    empty_page()
}

/// `big-page`: 200 000 records, whatever the limit.
fn big_page() -> BackupPage {
    let description = "d".repeat(200);
    let mut backups = Vec::with_capacity(50_000);
    for id in 1..=50_000u64 {
        let mut backup = record(id, format!("backup-20300101_0000_{id}.tar.gz"), 1_893_456_000, description.clone());
        backup.sha256 = format!("{id:064x}");
        backups.push(backup);
    }
    BackupPage { backups, total: u64::MAX }
}

/// `bad-names`: a traversal, another id's name, and a time no calendar has.
fn bad_names() -> BackupPage {
    let backups = vec![
        record(1, "../../../etc/passwd", 1_893_456_000, "a name that climbs out"),
        record(2, "backup-20300101_0000_3.tar.gz", 1_893_456_000, "another id's name"),
        record(4, "backup-20300101_0000_4.tar.gz", i64::MAX, "created at the end of time"),
    ];
    BackupPage { backups, total: 3 }
}

/// `long-strings`: one record with an 8 MiB description.
fn long_strings() -> BackupPage {
    BackupPage {
        backups: vec![record(1, "backup-20300101_0000_1.tar.gz", 1_893_456_000, "x".repeat(8 << 20))],
        total: 1,
    }
}

// ---------------------------------------------------------------------------
// Sandbox probes

/// What one probe found: `Ok(detail)` when the forbidden thing worked,
/// `Err(detail)` when it was refused.
type ProbeOutcome = Result<String, String>;

/// A probe: its name and what it runs.
type Probe = (&'static str, fn() -> ProbeOutcome);

/// The probes, in the order they are answered.
const PROBES: [Probe; 10] = [
    ("read-outside-dotdot", probe_read_outside_dotdot),
    ("read-absolute", probe_read_absolute),
    ("write-data", probe_write_data),
    ("write-public", probe_write_public),
    ("write-backups", probe_write_backups),
    ("env-vars", probe_env_vars),
    ("args", probe_args),
    ("network", probe_network),
    ("write-env", probe_write_env),
    ("symlink-escape", probe_symlink_escape),
];

/// `text` cut to 200 characters.
fn cut(text: &str) -> String {
    text.chars().take(200).collect()
}

/// `probe`: one record per probe.
fn probe_page() -> BackupPage {
    let backups: Vec<Backup> = PROBES
        .iter()
        .enumerate()
        .map(|(i, (name, probe))| {
            let id = i as u64 + 1;
            let (verdict, detail) = match probe() {
                Ok(detail) => ("ok", detail),
                Err(detail) => ("refused", detail),
            };
            let description = format!("probe:{name}:{verdict}:{}", cut(&detail));
            record(id, format!("backup-19700101_0000_{id}.tar.gz"), 0, description)
        })
        .collect();
    let total = backups.len() as u64;
    BackupPage { backups, total }
}

/// Reads `path`: `Ok` with what was read, `Err` with why not.
fn try_read(path: &str) -> ProbeOutcome {
    match std::fs::read(path) {
        Ok(bytes) => Ok(format!("read {} bytes of {path}", bytes.len())),
        Err(e) => Err(format!("{path}: {e}")),
    }
}

fn probe_read_outside_dotdot() -> ProbeOutcome {
    let first = try_read("backups/../.env");
    if first.is_ok() {
        return first;
    }
    let second = try_read("data/../../etc/passwd");
    if second.is_ok() {
        return second;
    }
    Err(format!("{}; {}", first.unwrap_err(), second.unwrap_err()))
}

fn probe_read_absolute() -> ProbeOutcome {
    // wasi-libc answers this one itself (no preopen is `/`)...
    let libc = try_read("/etc/passwd");
    if libc.is_ok() {
        return libc;
    }
    // ...so the absolute path also goes to the host, relative to a preopen.
    let raw = open_in("data", "/etc/passwd");
    if raw.is_ok() {
        return raw;
    }
    Err(format!("{}; {}", libc.unwrap_err(), raw.unwrap_err()))
}

/// Creates `path` with a line of text: `Ok` when it could.
fn try_create(path: &str) -> ProbeOutcome {
    match std::fs::write(path, b"written by the hostile plugin\n") {
        Ok(()) => Ok(format!("created {path}")),
        Err(e) => Err(format!("{path}: {e}")),
    }
}

fn probe_write_data() -> ProbeOutcome {
    // Left in place when it worked, so that the test sees it too.
    try_create("data/probe.txt")
}

fn probe_write_public() -> ProbeOutcome {
    try_create("public/probe.txt")
}

fn probe_write_backups() -> ProbeOutcome {
    try_create("backups/probe.txt")?;
    std::fs::remove_file("backups/probe.txt")
        .map_err(|e| format!("created backups/probe.txt, but removing it: {e}"))?;
    Ok("created and removed backups/probe.txt".to_string())
}

fn probe_env_vars() -> ProbeOutcome {
    let names: Vec<String> = std::env::vars_os().map(|(name, _)| name.to_string_lossy().into_owned()).collect();
    if names.is_empty() {
        Err("no environment variables".to_string())
    } else {
        Ok(format!("{} variables: {}", names.len(), names.join(",")))
    }
}

fn probe_args() -> ProbeOutcome {
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    if args.len() > 1 {
        Ok(format!("{} arguments: {args:?}", args.len()))
    } else {
        Err(format!("{} arguments: {args:?}", args.len()))
    }
}

fn probe_network() -> ProbeOutcome {
    use std::io::ErrorKind;
    use std::net::{TcpListener, TcpStream, UdpSocket};

    let mut refusals = Vec::new();
    match TcpListener::bind("127.0.0.1:0") {
        Ok(listener) => return Ok(format!("bound TCP {:?}", listener.local_addr())),
        Err(e) => refusals.push(format!("tcp bind: {e}")),
    }
    match TcpStream::connect("127.0.0.1:9") {
        Ok(_) => return Ok("connected to 127.0.0.1:9".to_string()),
        // The connection reached the host's network stack: the sandbox let it out.
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
            return Ok(format!("tcp connect reached the network: {e}"));
        }
        Err(e) => refusals.push(format!("tcp connect: {e}")),
    }
    match UdpSocket::bind("127.0.0.1:0") {
        Ok(socket) => match socket.send_to(b"hostile", "127.0.0.1:9") {
            Ok(_) => return Ok("sent a UDP datagram to 127.0.0.1:9".to_string()),
            Err(e) => refusals.push(format!("udp send (after a bind that worked): {e}")),
        },
        Err(e) => refusals.push(format!("udp bind: {e}")),
    }
    Err(refusals.join("; "))
}

fn probe_write_env() -> ProbeOutcome {
    match host::write_env(b"X=1") {
        Ok(()) => Ok("write-env accepted X=1 outside restore".to_string()),
        Err(e) => Err(e),
    }
}

fn probe_symlink_escape() -> ProbeOutcome {
    let mut refusals = Vec::new();
    // `..` from backups/ is the tenant folder: link/.env is the tenant's .env.
    match symlink_in("backups", "..", "link") {
        Ok(()) => {
            let read = try_read("backups/link/.env");
            let _ = std::fs::remove_file("backups/link");
            match read {
                Ok(detail) => return Ok(format!("through backups/link -> ..: {detail}")),
                Err(e) => refusals.push(format!("created backups/link -> .., but {e}")),
            }
        }
        Err(e) => refusals.push(format!("symlink backups/link -> ..: {e}")),
    }
    match symlink_in("backups", "../..", "link") {
        Ok(()) => {
            let listed = std::fs::read_dir("backups/link").map(|entries| entries.count());
            let _ = std::fs::remove_file("backups/link");
            match listed {
                Ok(n) => return Ok(format!("listed {n} entries through backups/link -> ../..")),
                Err(e) => refusals.push(format!("created backups/link -> ../.., but listing it: {e}")),
            }
        }
        Err(e) => refusals.push(format!("symlink backups/link -> ../..: {e}")),
    }
    Err(refusals.join("; "))
}

/// Creates the symlink `link` -> `target` inside the preopened folder
/// `folder`, with WASI 0.2 `descriptor.symlink-at` (std's `symlink_path`
/// is unstable).
#[cfg(target_arch = "wasm32")]
fn symlink_in(folder: &str, target: &str, link: &str) -> Result<(), String> {
    let (dir, _) = wasip2::filesystem::preopens::get_directories()
        .into_iter()
        .find(|(_, name)| name == folder)
        .ok_or_else(|| format!("no preopened folder {folder}"))?;
    dir.symlink_at(target, link).map_err(|code| format!("{}: {}", code.name(), code.message()))
}

/// Opens `path` for reading relative to the preopened folder `folder` with
/// WASI 0.2 `descriptor.open-at`, past wasi-libc's own path checks.
#[cfg(target_arch = "wasm32")]
fn open_in(folder: &str, path: &str) -> ProbeOutcome {
    use wasip2::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};
    let (dir, _) = wasip2::filesystem::preopens::get_directories()
        .into_iter()
        .find(|(_, name)| name == folder)
        .ok_or_else(|| format!("no preopened folder {folder}"))?;
    match dir.open_at(PathFlags::empty(), path, OpenFlags::empty(), DescriptorFlags::READ) {
        Ok(_) => Ok(format!("opened {path} relative to {folder}/ through open-at")),
        Err(code) => Err(format!("open-at {folder}/ {path}: {}: {}", code.name(), code.message())),
    }
}

/// Natively there are no preopens: the component only runs as wasm.
#[cfg(not(target_arch = "wasm32"))]
fn open_in(folder: &str, _path: &str) -> ProbeOutcome {
    Err(format!("no preopened folder {folder} outside WebAssembly"))
}

/// Natively there are no preopens: the component only runs as wasm.
#[cfg(not(target_arch = "wasm32"))]
fn symlink_in(folder: &str, _target: &str, _link: &str) -> Result<(), String> {
    Err(format!("no preopened folder {folder} outside WebAssembly"))
}

// ---------------------------------------------------------------------------
// create

/// `YYYYMMDD_HHMM` of `t` (seconds since the epoch, UTC), by the civil
/// calendar algorithm of Howard Hinnant's `civil_from_days`.
fn name_time(t: Timestamp) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}_{:02}{:02}", secs / 3600, secs % 3600 / 60)
}

// ---------------------------------------------------------------------------
// restore

/// `restore(10)`: links that point out of the tenant, then a normal file.
fn plant_links() -> RestoreReport {
    for (folder, target, link) in [("data", "/etc/passwd", "escape"), ("public", "../../..", "up")] {
        let outcome = symlink_in(folder, target, link);
        host::log(LogLevel::Warn, &format!("hostile plugin: symlink {folder}/{link} -> {target}: {outcome:?}"));
    }
    let written = std::fs::write("translations/en.json", b"{}");
    host::log(LogLevel::Warn, &format!("hostile plugin: write translations/en.json: {written:?}"));
    RestoreReport { id: 10, files: 1, bytes: 2 }
}

/// `restore(11)`: overwrites the database file and `.env`.
fn overwrite_database() -> RestoreReport {
    let written = std::fs::write("data/kinesis.redb", vec![0x55u8; 4096]);
    host::log(LogLevel::Warn, &format!("hostile plugin: write data/kinesis.redb: {written:?}"));
    let env = host::write_env(b"A=1\n");
    host::log(LogLevel::Warn, &format!("hostile plugin: write-env: {env:?}"));
    RestoreReport { id: 11, files: 2, bytes: 4100 }
}

impl Guest for Hostile {
    fn create(description: String, expiry: Option<Timestamp>) -> Result<Backup, Error> {
        match description.as_str() {
            "spin" => spin_forever(),
            "spin-with-progress" => spin_with_progress(),
            "huge-error" => Err(Error::Storage("e".repeat(40 << 20))),
            "name-traversal" => Ok(record(5, "../backups/../../.env", host::now(), description)),
            "mismatched-id" => Ok(record(5, "backup-20300101_0000_6.tar.gz", host::now(), description)),
            _ => {
                let now = host::now();
                let mut backup = record(1, format!("backup-{}_1.tar.gz", name_time(now)), now, description);
                backup.expiry = expiry;
                Ok(backup)
            }
        }
    }

    fn list(search: Option<String>, _limit: u32, _offset: u32) -> Result<BackupPage, Error> {
        Ok(match search.as_deref() {
            Some("log-flood") => log_flood(),
            Some("big-page") => big_page(),
            Some("bad-names") => bad_names(),
            Some("long-strings") => long_strings(),
            Some("probe") => probe_page(),
            _ => empty_page(),
        })
    }

    fn get(id: u64) -> Result<Backup, Error> {
        match id {
            1 => Ok(record(1, "../../../etc/passwd", 1_893_456_000, "a name that climbs out")),
            2 => Ok(record(3, "backup-20300101_0000_3.tar.gz", 1_893_456_000, "not the id asked")),
            10 | 11 => Ok(record(id, format!("backup-20300101_0000_{id}.tar.gz"), 1_893_456_000, "restorable")),
            999 => Err(Error::Storage("e".repeat(40 << 20))),
            _ => Err(Error::NotFound(format!("no backup {id}"))),
        }
    }

    fn update(id: u64, _description: Option<String>, _expiry: ExpiryChange) -> Result<Backup, Error> {
        Err(Error::NotFound(format!("no backup {id}")))
    }

    fn restore(id: u64) -> Result<RestoreReport, Error> {
        match id {
            10 => Ok(plant_links()),
            11 => Ok(overwrite_database()),
            _ => Err(Error::NotFound(format!("no backup {id}"))),
        }
    }

    fn delete(id: u64) -> Result<(), Error> {
        Err(Error::NotFound(format!("no backup {id}")))
    }

    fn verify(id: u64) -> Result<VerifyReport, Error> {
        let problem = "p".repeat(1000);
        Ok(VerifyReport { id, ok: false, files_checked: 0, bytes_checked: 0, problems: vec![problem; 20_000] })
    }

    fn schedule_create(_input: ScheduleInput) -> Result<Schedule, Error> {
        Err(Error::InvalidInput("hostile plugin".to_string()))
    }

    fn schedule_list(_limit: u32, _offset: u32) -> Result<(Vec<Schedule>, u64), Error> {
        let schedules = (1..=100_000u64)
            .map(|id| Schedule {
                id,
                name: "s".to_string(),
                cron: "* * * * *".to_string(),
                expiry_hours: None,
                enabled: true,
                next_run: Some(0),
                last_run: None,
                last_error: None,
            })
            .collect();
        Ok((schedules, 100_000))
    }

    fn schedule_update(id: u64, _patch: SchedulePatch) -> Result<Schedule, Error> {
        Err(Error::NotFound(format!("no schedule {id}")))
    }

    fn schedule_delete(id: u64) -> Result<(), Error> {
        Err(Error::NotFound(format!("no schedule {id}")))
    }

    fn schedule_tick(_now: Timestamp) -> Result<TickReport, Error> {
        spin_forever()
    }
}

export!(Hostile);

#[cfg(test)]
mod tests {
    use super::name_time;

    #[test]
    fn name_time_follows_the_calendar() {
        assert_eq!(name_time(0), "19700101_0000");
        assert_eq!(name_time(1_893_456_000), "20300101_0000");
        assert_eq!(name_time(951_782_400 + 3600 * 13 + 60 * 7), "20000229_1307");
        assert_eq!(name_time(-60), "19691231_2359");
    }
}
