//! Native tests of the whole plugin logic against temporary folders and an
//! in-memory host.

mod backups;
mod hostile;
mod jobs;
mod roundtrip;
mod schedules;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use tempfile::TempDir;

use crate::catalog::{CATALOG_DIR, JOURNAL_FILE, SNAPSHOT_FILE};
use crate::host::{Context, Host, LogLevel, Roots};

/// 2024-01-03T12:00:00Z, a Wednesday.
pub const START: i64 = 1_704_283_200;

/// A host whose clock, `.env` and failures the test controls.
pub struct TestHost {
    pub now: Cell<i64>,
    pub env: RefCell<Vec<u8>>,
    pub fail_write_env: Cell<bool>,
    pub logs: RefCell<Vec<(LogLevel, String)>>,
    pub progress: RefCell<Vec<(u64, u64)>>,
}

impl Host for TestHost {
    fn now(&self) -> i64 {
        self.now.get()
    }
    fn read_env(&self) -> Result<Vec<u8>, String> {
        Ok(self.env.borrow().clone())
    }
    fn write_env(&self, contents: &[u8]) -> Result<(), String> {
        if self.fail_write_env.get() {
            return Err("the disk is full".to_string());
        }
        *self.env.borrow_mut() = contents.to_vec();
        Ok(())
    }
    fn log(&self, level: LogLevel, message: &str) {
        self.logs.borrow_mut().push((level, message.to_string()));
    }
    fn progress(&self, done: u64, total: u64) {
        self.progress.borrow_mut().push((done, total));
    }
}

/// A tenant in a temporary folder.
pub struct Fixture {
    pub dir: TempDir,
    pub roots: Roots,
    pub host: TestHost,
}

/// What a folder tree holds: path -> file content, or `None` for a folder.
pub type Tree = BTreeMap<String, Option<Vec<u8>>>;

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let roots = Roots {
            data: dir.path().join("data"),
            public: dir.path().join("public"),
            translations: dir.path().join("translations"),
            backups: dir.path().join("backups"),
        };
        for path in [&roots.data, &roots.public, &roots.translations, &roots.backups] {
            fs::create_dir(path).unwrap();
        }
        let host = TestHost {
            now: Cell::new(START),
            env: RefCell::new(b"SECRET=abc\n".to_vec()),
            fail_write_env: Cell::new(false),
            logs: RefCell::new(Vec::new()),
            progress: RefCell::new(Vec::new()),
        };
        Fixture { dir, roots, host }
    }

    pub fn ctx(&self) -> Context<'_> {
        Context { host: &self.host, roots: &self.roots }
    }

    /// Writes a file at `path` relative to the tenant folder.
    pub fn write(&self, path: &str, content: &[u8]) {
        let target = self.dir.path().join(path);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, content).unwrap();
    }

    /// Everything under data/, public/ and translations/, plus `.env`.
    pub fn tree(&self) -> Tree {
        let mut tree = Tree::new();
        for (name, root) in self.roots.content() {
            collect(root, name, &mut tree);
        }
        tree.insert(".env".to_string(), Some(self.host.env.borrow().clone()));
        tree
    }

    /// The names in backups/.
    pub fn backup_files(&self) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(&self.roots.backups).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    /// The catalog's snapshot and journal, as stored.
    pub fn catalog_files(&self) -> [Option<Vec<u8>>; 2] {
        let dir = self.roots.backups.join(CATALOG_DIR);
        [SNAPSHOT_FILE, JOURNAL_FILE].map(|name| fs::read(dir.join(name)).ok())
    }

    /// Rewrites the catalog's snapshot and journal with `edit` (which must
    /// keep every length, as the snapshot's index counts bytes).
    pub fn edit_catalog(&self, edit: impl Fn(&str) -> String) {
        let dir = self.roots.backups.join(CATALOG_DIR);
        for name in [SNAPSHOT_FILE, JOURNAL_FILE] {
            let path = dir.join(name);
            let text = fs::read_to_string(&path).unwrap();
            let edited = edit(&text);
            assert_eq!(edited.len(), text.len(), "an edit changed the length of {name}");
            fs::write(&path, edited).unwrap();
        }
    }

    pub fn warnings(&self) -> Vec<String> {
        self.host.logs.borrow().iter().filter(|(l, _)| *l == LogLevel::Warn).map(|(_, m)| m.clone()).collect()
    }
}

fn collect(dir: &Path, prefix: &str, tree: &mut Tree) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = format!("{prefix}/{}", entry.file_name().into_string().unwrap());
        if entry.file_type().unwrap().is_dir() {
            tree.insert(path.clone(), None);
            collect(&entry.path(), &path, tree);
        } else {
            tree.insert(path, Some(fs::read(entry.path()).unwrap()));
        }
    }
}

/// Reproducible pseudo-random bytes (xorshift).
pub fn random_bytes(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}
