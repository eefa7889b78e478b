//! What a host operator sets for one tenant under `serve --tenants`: its
//! own plugin file, quotas and limits, and its offsite target and keys.
//! Kept in `ROOT/.kinesis/hosting.json`, outside the four folders a plugin
//! sees and outside every backup, so a tenant can neither read nor restore
//! its way around it. Every field is
//! optional; a missing one takes the host-wide default.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::files::write_atomic;

/// The operator's settings of one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostingSettings {
    /// A plugin component file for this tenant instead of the host's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<PathBuf>,
    /// Most bytes all of the tenant's backups may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_bytes: Option<u64>,
    /// Most backups the tenant may keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_backups: Option<u64>,
    /// Plugin memory limit in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u32>,
    /// Seconds a long plugin call may go without a progress report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_seconds: Option<u64>,
    /// Offsite copies to `s3://BUCKET/PREFIX` instead of the host's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsite: Option<String>,
    /// An age X25519 recipient (`age1…`) the tenant's offsite copies are
    /// encrypted to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsite_recipient: Option<String>,
    /// The age identity file that decrypts the tenant's fetched copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsite_identity: Option<PathBuf>,
}

/// Why the hosting settings could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HostingError {
    /// The file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path} is not valid ({reason}); fix or remove it")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl HostingSettings {
    /// The tenant's own offsite settings (each `None` takes the host's).
    pub fn offsite_settings(&self) -> crate::offsite::OffsiteSettings {
        crate::offsite::OffsiteSettings {
            url: self.offsite.clone(),
            recipient: self.offsite_recipient.clone(),
            identity: self.offsite_identity.clone(),
            ..Default::default()
        }
    }

    /// The settings in `file`; the defaults when it does not exist.
    pub fn load(file: &Path) -> Result<HostingSettings, HostingError> {
        match std::fs::read(file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| HostingError::Invalid { path: file.to_path_buf(), reason: e.to_string() }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(HostingSettings::default()),
            Err(source) => Err(HostingError::Io { action: "read", path: file.to_path_buf(), source }),
        }
    }

    /// Writes the settings to `file` atomically.
    pub fn save(&self, file: &Path) -> Result<(), HostingError> {
        let io = |source| HostingError::Io { action: "write", path: file.to_path_buf(), source };
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let json = serde_json::to_vec_pretty(self).map_err(|e| io(std::io::Error::other(e)))?;
        write_atomic(file, &json).map_err(io)
    }
}

/// Whether `name` may name a tenant: a DNS label of lowercase letters,
/// digits and inner hyphens, 1 to 63 characters.
pub fn is_tenant_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let inner_ok = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    let edge_ok = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (1..=63).contains(&bytes.len())
        && bytes.iter().all(inner_ok)
        && bytes.first().is_some_and(edge_ok)
        && bytes.last().is_some_and(edge_ok)
}

/// Whether `root` holds a tenant: its `.env` and `data/`.
pub fn holds_tenant(root: &Path) -> bool {
    let dirs = super::TenantDirs::for_root(root);
    dirs.env_file.is_file() && dirs.data.is_dir()
}

/// The tenants in the folder of tenants `dir`: the subfolders named by a DNS
/// label that hold a tenant, in name order.
pub fn tenant_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|name| is_tenant_name(name) && holds_tenant(&dir.join(name)))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names_are_dns_labels() {
        for good in ["acme", "a", "b2b", "my-shop", &"x".repeat(63)] {
            assert!(is_tenant_name(good), "{good}");
        }
        for bad in ["", "-a", "a-", "Acme", "a.b", "a_b", "..", &"x".repeat(64), "é"] {
            assert!(!is_tenant_name(bad), "{bad}");
        }
    }

    #[test]
    fn settings_round_trip_and_default_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".kinesis/hosting.json");
        assert_eq!(HostingSettings::load(&file).unwrap(), HostingSettings::default());
        let settings = HostingSettings { quota_backups: Some(3), ..HostingSettings::default() };
        settings.save(&file).unwrap();
        assert_eq!(HostingSettings::load(&file).unwrap(), settings);
        std::fs::write(&file, "{\"quota\": 1}").unwrap();
        assert!(matches!(HostingSettings::load(&file), Err(HostingError::Invalid { .. })));
    }
}
