//! Feeds arbitrary bytes to the archive reader that restore and verify run
//! (`ReadJob::read_all`, the parts of a read job in one instance): gzip, tar headers, entry paths, duplicates, the end of
//! the streams and the manifest. It must never panic, overflow, run out of
//! memory or hang; reporting problems or returning an error is fine.
//!
//! An input that starts with the gzip magic (or is empty) is the archive
//! file as it is. Any other input is taken as a tar stream and gzipped here
//! first, so that mutations reach tar headers and the manifest without
//! having to keep the gzip CRC-32 right.
//!
//! The archive is read as one piece, or (for inputs of odd length) as a
//! part and a tail split at a point the input chooses, with the digests the
//! layout records computed here: so mutations reach the reader of pieces,
//! not only its digest check.
//!
//! The reader reads the file of a backup in its `backups` folder, so the
//! input is written to `<temp>/kinesis-plugin-fuzz-<pid>/backups/`, the
//! same file name on every run.

#![no_main]

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use flate2::Compression;
use flate2::write::GzEncoder;
use kinesis_backup_plugin::archive::entry_path::{EntryKind, EntryPath, check_entry_path};
use kinesis_backup_plugin::archive::layout::{ArchiveLayout, Piece};
use kinesis_backup_plugin::archive::read::{ExtractSink, MAX_ENV_BYTES};
use kinesis_backup_plugin::error::Result;
use kinesis_backup_plugin::host::{Context, Host, LogLevel, Roots};
use kinesis_backup_plugin::jobs::read::ReadJob;
use kinesis_backup_plugin::records::Backup;
use libfuzzer_sys::fuzz_target;

/// The backup id the seed archives were written with (their manifests say 1).
const BACKUP_ID: u64 = 1;
const ARCHIVE_NAME: &str = "backup-20240103_1200_1.tar.gz";

/// A host that does nothing; progress must stay within its total.
struct NullHost;

impl Host for NullHost {
    fn now(&self) -> i64 {
        1_704_283_200
    }
    fn read_env(&self) -> Result<Vec<u8>, String> {
        Ok(Vec::new())
    }
    fn write_env(&self, _: &[u8]) -> Result<(), String> {
        Ok(())
    }
    fn log(&self, _: LogLevel, _: &str) {}
    fn progress(&self, done: u64, total: u64) {
        assert!(done <= total, "progress {done} of {total}");
    }
}

/// A sink that keeps nothing but checks what the reader hands a real sink
/// (restore's staging): only checked paths, never the manifest, never more
/// bytes than a file announced, calls in order.
#[derive(Default)]
struct CheckingSink {
    /// Announced size and bytes received of the file being written.
    current: Option<(u64, u64)>,
    files: u64,
    bytes: u64,
}

impl CheckingSink {
    fn check_path(path: &EntryPath, kind: EntryKind) {
        let again = check_entry_path(path.as_str().as_bytes(), kind);
        assert_eq!(again.as_ref(), Ok(path), "the reader passed on an unchecked path");
        assert!(!path.is_manifest(), "the manifest reached the sink");
    }
}

impl ExtractSink for CheckingSink {
    fn directory(&mut self, path: &EntryPath) -> Result<()> {
        assert!(self.current.is_none(), "a folder inside a file");
        Self::check_path(path, EntryKind::Directory);
        Ok(())
    }
    fn begin_file(&mut self, path: &EntryPath, size: u64) -> Result<()> {
        assert!(self.current.is_none(), "a file began inside a file");
        Self::check_path(path, EntryKind::File);
        assert!(!path.is_env() || size <= MAX_ENV_BYTES, "a .env of {size} bytes");
        self.current = Some((size, 0));
        Ok(())
    }
    fn write(&mut self, chunk: &[u8]) -> Result<()> {
        let (size, received) = self.current.as_mut().expect("a write outside a file");
        *received += chunk.len() as u64;
        assert!(*received <= *size, "{received} bytes received of a file of {size}");
        Ok(())
    }
    fn end_file(&mut self) -> Result<()> {
        let (_, received) = self.current.take().expect("a file ended that never began");
        self.files += 1;
        self.bytes += received;
        Ok(())
    }
}

/// The roots, in a folder of this process, created once.
fn roots() -> &'static Roots {
    static ROOTS: OnceLock<Roots> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let dir: PathBuf = std::env::temp_dir().join(format!("kinesis-plugin-fuzz-{}", std::process::id()));
        let roots = Roots {
            data: dir.join("data"),
            public: dir.join("public"),
            translations: dir.join("translations"),
            backups: dir.join("backups"),
        };
        fs::create_dir_all(&roots.backups).expect("create the fuzz folder");
        roots
    })
}

fuzz_target!(|input: &[u8]| {
    let roots = roots();
    let archive = if input.is_empty() || input.starts_with(&[0x1f, 0x8b]) {
        input.to_vec()
    } else {
        let mut gz = GzEncoder::new(Vec::with_capacity(input.len() + 64), Compression::none());
        gz.write_all(input).expect("gzip into memory");
        gz.finish().expect("gzip into memory")
    };
    let path = roots.backups.join(ARCHIVE_NAME);
    // A new file rather than a truncated one: ext4 flushes a file truncated
    // and rewritten when it is closed, which made runs 3.5 times slower.
    let _ = fs::remove_file(&path);
    fs::write(&path, &archive).expect("write the archive");
    let layout = (archive.len() % 2 == 1 && archive.len() >= 2).then(|| {
        let split = 1 + usize::from(archive[archive.len() / 2]) * archive.len() / 256 % (archive.len() - 1);
        let piece = |offset: usize, bytes: &[u8]| Piece {
            offset: offset as u64,
            length: bytes.len() as u64,
            blake3: blake3::hash(bytes).to_hex().to_string(),
        };
        ArchiveLayout { pieces: vec![piece(0, &archive[..split]), piece(split, &archive[split..])] }
    });
    let backup = Backup {
        id: BACKUP_ID,
        name: ARCHIVE_NAME.to_string(),
        created_at: 0,
        description: String::new(),
        expiry: None,
        size: archive.len() as u64,
        // Empty: the recorded checksum is not compared.
        sha256: String::new(),
        schedule_id: None,
        layout,
    };
    let mut sink = CheckingSink::default();
    let ctx = Context { host: &NullHost, roots };
    let read = ReadJob::of(ctx, &backup, true).and_then(|job| job.read_all(ctx, &mut sink));
    if let Ok(check) = read {
        assert!(check.files <= sink.files && check.bytes <= sink.bytes, "counted more than was read");
        if check.problems.is_empty() {
            assert!(sink.current.is_none(), "a sound archive left a file open");
            assert_eq!((check.files, check.bytes), (sink.files, sink.bytes), "a sound archive miscounted");
        }
    }
});
