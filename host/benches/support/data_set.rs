//! The benchmarks' reproducible data set: about 60 % compressible text and
//! 40 % random bytes, ~2,000 files from 256 B to 1 MiB plus three of
//! 100 MiB (times `scale`), laid out as a tenant folder.

use std::fs;
use std::io::Write;
use std::path::Path;

const SEED: u64 = 0x4B49_4E45_5349_5321;
/// A mebibyte.
pub const MIB: u64 = 1024 * 1024;

/// Size of the generated data set.
pub struct Totals {
    pub files: u64,
    pub bytes: u64,
}

/// Builds the data set under `root` unless a complete one is already there.
pub fn ensure_data_set(root: &Path, scale: f64) -> Totals {
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

/// Writes `size` reproducible random bytes (which do not compress) to
/// `path` (the offsite benchmark's archive).
#[allow(dead_code)]
pub fn write_random(path: &Path, size: u64) {
    write_file(path, size, false, &mut Rng(SEED));
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
