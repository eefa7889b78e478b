//! Where everything of a tenant lives. A tenant is one root folder holding
//! `.env`, `data/`, `public/`, `translations/` and `backups/`; the host keeps
//! its own working folders under `.kinesis/` beside them. This module owns
//! every one of those names: no other module spells a path inside a tenant.

use std::path::{Path, PathBuf};

/// The lock file inside a tenant's root.
pub const LOCK_FILE: &str = ".kinesis.lock";
/// The host's working folder inside a tenant's root. Never handed to a plugin.
const WORK_DIR: &str = ".kinesis";
/// Prefix of snapshot folders (`snapshot-<pid>-<n>`) inside the work folder.
pub(crate) const SNAPSHOT_PREFIX: &str = "snapshot-";
/// The restore working folder inside the work folder.
const RESTORE_DIR: &str = "restore";
/// Prefix of the folders an upload is checked in (`import-<pid>-<n>`).
pub(crate) const IMPORT_PREFIX: &str = "import-";
/// The folder remote copies are fetched into inside the work folder.
const OFFSITE_SCRATCH_DIR: &str = "offsite";

/// The folders and files of one tenant, as the runtime hands them to the
/// plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantDirs {
    /// The tenant's root folder.
    pub root: PathBuf,
    /// Preopened as `data`: the database folder, or a consistent snapshot of
    /// it taken by the host for a backup.
    pub data: PathBuf,
    /// Preopened as `public`.
    pub public: PathBuf,
    /// Preopened as `translations`.
    pub translations: PathBuf,
    /// Preopened as `backups`: archives, catalog, schedules.
    pub backups: PathBuf,
    /// The tenant's `.env` file, read and written through the host import.
    pub env_file: PathBuf,
}

impl TenantDirs {
    /// Whether `data`, `public` and `translations` hold nothing (a folder
    /// that cannot be read counts as not empty).
    pub fn content_is_empty(&self) -> bool {
        [&self.data, &self.public, &self.translations]
            .iter()
            .all(|dir| std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none()))
    }

    /// The standard layout under `root`.
    pub fn for_root(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        TenantDirs {
            data: root.join("data"),
            public: root.join("public"),
            translations: root.join("translations"),
            backups: root.join("backups"),
            env_file: root.join(".env"),
            root,
        }
    }

    /// The same tenant with `data` pointing at another folder (a snapshot).
    pub fn with_data(&self, data: impl Into<PathBuf>) -> Self {
        TenantDirs { data: data.into(), ..self.clone() }
    }

    /// The four preopened folders with their guest names, in contract order.
    pub fn preopens(&self) -> [(&'static str, &Path); 4] {
        [
            ("data", &self.data),
            ("public", &self.public),
            ("translations", &self.translations),
            ("backups", &self.backups),
        ]
    }

    /// Creates the root and any of the four folders that are missing.
    pub fn ensure_exist(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.root)?;
        for (_, dir) in self.preopens() {
            std::fs::create_dir_all(dir)?;
        }
        Ok(())
    }
}

/// The host's working folders of one tenant, all under `ROOT/.kinesis/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkDirs {
    /// `ROOT/.kinesis`.
    pub root: PathBuf,
}

impl WorkDirs {
    /// The working folders of the tenant rooted at `tenant_root`.
    pub fn for_root(tenant_root: &Path) -> Self {
        WorkDirs { root: tenant_root.join(WORK_DIR) }
    }

    /// A new snapshot folder name for this process: `snapshot-<pid>-<n>`.
    pub fn snapshot(&self, n: u64) -> PathBuf {
        self.root.join(format!("{SNAPSHOT_PREFIX}{}-{n}", std::process::id()))
    }

    /// The operator's settings of a hosted tenant.
    pub fn hosting_settings(&self) -> PathBuf {
        self.root.join("hosting.json")
    }

    /// The state of the tenant's offsite copies: queued work and the
    /// records known in the bucket.
    pub fn offsite_state(&self) -> PathBuf {
        self.root.join("offsite.json")
    }

    /// Where remote copies are fetched to before they are checked and moved
    /// into `backups/`.
    pub fn offsite_scratch(&self) -> PathBuf {
        self.root.join(OFFSITE_SCRATCH_DIR)
    }

    /// A new folder for checking an uploaded archive: `import-<pid>-<n>`.
    pub fn import(&self, n: u64) -> PathBuf {
        self.root.join(format!("{IMPORT_PREFIX}{}-{n}", std::process::id()))
    }

    /// The note of the `backups/` folder taken before a long plugin call.
    pub fn plugin_call_note(&self) -> PathBuf {
        self.root.join("plugin-call.json")
    }

    /// Whether an earlier process left something to settle: a restore, the
    /// note of a plugin call, a snapshot or an upload being checked. (The
    /// fetch folder stays between fetches and is emptied by any writer.)
    pub fn needs_settling(&self) -> bool {
        self.restore().root.exists()
            || self.plugin_call_note().exists()
            || std::fs::read_dir(&self.root).is_ok_and(|entries| {
                entries.flatten().any(|e| {
                    e.file_name().to_str().is_some_and(|n| Self::is_scratch_name(n) && n != OFFSITE_SCRATCH_DIR)
                })
            })
    }

    /// Whether `name` (an entry of the work folder) is a snapshot folder.
    pub fn is_snapshot_name(name: &str) -> bool {
        name.starts_with(SNAPSHOT_PREFIX)
    }

    /// Whether `name` (an entry of the work folder) is scratch space an
    /// earlier process may have left: a snapshot, an upload being checked,
    /// or remote copies being fetched.
    pub fn is_scratch_name(name: &str) -> bool {
        Self::is_snapshot_name(name) || name.starts_with(IMPORT_PREFIX) || name == OFFSITE_SCRATCH_DIR
    }

    /// The folder of the restore in progress: `new/` (what the plugin
    /// staged), `old/` (what the swap put aside) and the journal.
    pub fn restore(&self) -> RestoreDirs {
        let root = self.root.join(RESTORE_DIR);
        RestoreDirs { new: root.join("new"), old: root.join("old"), journal: root.join("journal.json"), root }
    }
}

/// The paths of a restore's working folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreDirs {
    /// `ROOT/.kinesis/restore`.
    pub root: PathBuf,
    /// What the plugin restored into, swapped in when complete.
    pub new: PathBuf,
    /// The live files the swap put aside, removed once the restore is settled.
    pub old: PathBuf,
    /// The journal that says how far a swap went.
    pub journal: PathBuf,
}
