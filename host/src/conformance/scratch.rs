//! The throwaway tenant a case runs in: a temporary folder holding the
//! tenant (`tenant/`) and the empty folders a restore is staged into
//! (`staging/`), as the host stages every restore. Removed when dropped.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kinesis_backup_core::runtime::{Clock, Invocation};
use kinesis_backup_core::tenant::TenantDirs;

use super::fail::{Outcome, setup};
use super::tree::{Tree, generate_tree, snapshot_tree};

/// A temporary tenant and its staging folders.
pub struct Scratch {
    dir: tempfile::TempDir,
    /// The tenant's folders.
    pub dirs: TenantDirs,
    staging: PathBuf,
}

impl Scratch {
    /// A new, empty tenant: the four folders exist, `.env` does not.
    pub fn new() -> std::io::Result<Scratch> {
        let dir = tempfile::Builder::new().prefix("kinesis-check-").tempdir()?;
        let dirs = TenantDirs::for_root(dir.path().join("tenant"));
        dirs.ensure_exist()?;
        let staging = dir.path().join("staging");
        Ok(Scratch { dir, dirs, staging })
    }

    /// The temporary folder that holds the tenant: what a plugin escaping
    /// its folders would reach first.
    pub fn around(&self) -> &Path {
        self.dir.path()
    }

    /// An invocation on the tenant with `clock`.
    pub fn invocation(&self, clock: Arc<dyn Clock>) -> Invocation {
        Invocation { clock, ..Invocation::new(self.dirs.clone()) }
    }

    /// An invocation for a restore with `clock`: `data`, `public` and
    /// `translations` are new, empty staging folders and `.env` is written
    /// to `staging/env`, as the host runs every restore.
    pub fn restore_invocation(&self, clock: Arc<dyn Clock>) -> Outcome<Invocation> {
        if self.staging.exists() {
            setup(std::fs::remove_dir_all(&self.staging), "empty the staging folder")?;
        }
        let dirs = TenantDirs {
            data: self.staging.join("data"),
            public: self.staging.join("public"),
            translations: self.staging.join("translations"),
            env_file: self.staging.join("env"),
            ..self.dirs.clone()
        };
        for dir in [&dirs.data, &dirs.public, &dirs.translations] {
            setup(std::fs::create_dir_all(dir), "create the staging folders")?;
        }
        Ok(Invocation { clock, ..Invocation::new(dirs) })
    }

    /// Fills the tenant with a reproducible tree (about 3 MiB more in `data`
    /// when `big`) and a `.env`.
    pub fn fill(&self, seed: u64, big: bool) -> Outcome {
        setup(fill(&self.dirs, seed, big), "write the generated files")
    }

    /// Everything a backup covers: `.env` and the three content folders.
    pub fn snapshot(&self) -> Tree {
        snapshot(&self.dirs)
    }

    /// What the last staged restore would put in place: the staged folders,
    /// and the staged `.env`, or the live one when the restore wrote none.
    pub fn staged(&self) -> Tree {
        let env = std::fs::read(self.staging.join("env")).or_else(|_| std::fs::read(&self.dirs.env_file)).ok();
        let [data, public, translations] = ["data", "public", "translations"].map(|n| self.staging.join(n));
        covered(env, [&data, &public, &translations])
    }
}

/// Fills the tenant of `dirs` with a reproducible tree (see
/// [`generate_tree`]; about 3 MiB more in `data` when `big`) and a `.env`.
pub fn fill(dirs: &TenantDirs, seed: u64, big: bool) -> std::io::Result<()> {
    for (name, dir) in [("data", &dirs.data), ("public", &dirs.public), ("translations", &dirs.translations)] {
        generate_tree(dir, seed ^ name.len() as u64, big && name == "data")?;
    }
    std::fs::write(&dirs.env_file, format!("SECRET=seed-{seed}\nPORT=8080\n"))
}

/// Everything a backup of the tenant of `dirs` covers: `.env` and the three
/// content folders, as one tree (`.env`, `data/...`, ...).
pub fn snapshot(dirs: &TenantDirs) -> Tree {
    covered(std::fs::read(&dirs.env_file).ok(), [&dirs.data, &dirs.public, &dirs.translations])
}

/// `.env` and the three folders as one tree (`.env`, `data/...`, ...).
fn covered(env: Option<Vec<u8>>, [data, public, translations]: [&PathBuf; 3]) -> Tree {
    let mut all = Tree::new();
    if let Some(env) = env {
        all.insert(".env".to_string(), super::tree::Entry::File(env));
    }
    for (name, dir) in [("data", data), ("public", public), ("translations", translations)] {
        for (path, entry) in snapshot_tree(dir) {
            all.insert(format!("{name}/{path}"), entry);
        }
    }
    all
}
