//! Generated file trees and byte-for-byte comparison: the data every case
//! backs up and the yardstick of a restore.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A small deterministic pseudo-random generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    /// Seeded generator; the same seed gives the same sequence.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// Writes a reproducible tree under `root`: nested folders, empty files,
/// empty folders, Unicode names, text, and (when `big`) about 3 MiB of
/// pseudo-random bytes.
pub fn generate_tree(root: &Path, seed: u64, big: bool) -> std::io::Result<()> {
    let mut rng = Rng::new(seed);
    let write = |path: PathBuf, bytes: &[u8]| -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)
    };
    write(root.join("empty.txt"), b"")?;
    std::fs::create_dir_all(root.join("empty-folder"))?;
    std::fs::create_dir_all(root.join("nested/deeper/empty"))?;
    write(root.join("Grüße/日本語 ファイル.txt"), "こんにちは, Grüße, émoji 🎉\n".as_bytes())?;
    write(root.join("nested/deeper/notes.md"), format!("# notes {seed}\n").repeat(200).as_bytes())?;
    for i in 0..12 {
        let len = (rng.next_u64() % 20_000) as usize;
        write(root.join(format!("nested/file-{i:02}.bin")), &rng.bytes(len))?;
    }
    if big {
        write(root.join("big/random.bin"), &rng.bytes(3 * 1024 * 1024 + 17))?;
    }
    Ok(())
}

/// A file or folder in a tree snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A folder.
    Dir,
    /// A regular file and its bytes.
    File(Vec<u8>),
    /// A symbolic link and its target.
    Link(PathBuf),
}

/// A tree: every entry by relative path (with `/`).
pub type Tree = BTreeMap<String, Entry>;

/// Every entry under `root`, by relative path (with `/`), without following
/// links; empty when `root` does not exist. Comparing two snapshots compares
/// trees byte for byte.
pub fn snapshot_tree(root: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, out: &mut Tree) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(rel) = path.strip_prefix(root) else { continue };
            let rel = rel.to_string_lossy().replace('\\', "/");
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_symlink() {
                out.insert(rel, Entry::Link(std::fs::read_link(&path).unwrap_or_default()));
            } else if kind.is_dir() {
                out.insert(rel, Entry::Dir);
                walk(root, &path, out);
            } else {
                out.insert(rel, Entry::File(std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    let mut out = Tree::new();
    walk(root, root, &mut out);
    out
}

/// The first differences between two trees in words (a few paths of each
/// kind), or `None` when they are equal.
pub fn differences(expected: &Tree, actual: &Tree) -> Option<String> {
    fn few(paths: &[&String]) -> String {
        let shown: Vec<&str> = paths.iter().take(5).map(|p| p.as_str()).collect();
        let more = paths.len().saturating_sub(shown.len());
        if more > 0 { format!("{shown:?} and {more} more") } else { format!("{shown:?}") }
    }
    let missing: Vec<&String> = expected.keys().filter(|k| !actual.contains_key(*k)).collect();
    let extra: Vec<&String> = actual.keys().filter(|k| !expected.contains_key(*k)).collect();
    let changed: Vec<&String> =
        expected.iter().filter(|(k, v)| actual.get(*k).is_some_and(|a| a != *v)).map(|(k, _)| k).collect();
    if missing.is_empty() && extra.is_empty() && changed.is_empty() {
        return None;
    }
    Some(format!("missing {}, unexpected {}, changed {}", few(&missing), few(&extra), few(&changed)))
}
