//! The manifest stored as the last entry of every archive: the size and
//! digest of each file and the list of folders. Format 2 lists each file's
//! BLAKE3, format 1 (archives of earlier versions) its SHA-256; both are
//! read.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::hashing::Digested;

/// Path of the manifest inside an archive.
pub const MANIFEST_PATH: &str = "manifest.json";
/// The manifest format this plugin writes: files listed with BLAKE3.
pub const MANIFEST_FORMAT: &str = "kinesis-backup/2";
/// The earlier format, still read: files listed with SHA-256.
pub const MANIFEST_FORMAT_1: &str = "kinesis-backup/1";

/// The manifest of one archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`] or [`MANIFEST_FORMAT_1`].
    pub format: String,
    /// The backup's id.
    pub backup_id: u64,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Every regular file in the archive except the manifest itself.
    pub files: Vec<ManifestFile>,
    /// Every folder in the archive.
    pub directories: Vec<String>,
}

/// One file listed in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path inside the archive.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the content (format 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Lowercase hex BLAKE3 of the content (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blake3: Option<String>,
}

impl ManifestFile {
    /// The entry for `path` with `digest`, listed by BLAKE3.
    pub fn new(path: &str, digest: &Digested) -> Self {
        ManifestFile { path: path.to_string(), size: digest.size, sha256: None, blake3: digest.blake3.clone() }
    }

    /// How `actual` disagrees with this entry, if it does.
    fn mismatch(&self, actual: &Digested) -> Option<String> {
        let path = &self.path;
        if actual.size != self.size {
            return Some(format!("{path} is {} bytes, the manifest says {}", actual.size, self.size));
        }
        let (name, listed, found) = match (&self.blake3, &self.sha256) {
            (Some(listed), _) => ("BLAKE3", listed, &actual.blake3),
            (None, Some(listed)) => ("SHA-256", listed, &actual.sha256),
            (None, None) => return Some(format!("the manifest lists no digest for {path}")),
        };
        match found {
            Some(found) if found.eq_ignore_ascii_case(listed) => None,
            Some(found) => Some(format!("{path} has {name} {found}, the manifest says {listed}")),
            None => Some(format!("{path} was not hashed with {name}, which the manifest lists")),
        }
    }
}

impl Manifest {
    /// Every way the manifest disagrees with what the archive actually held,
    /// one line each; empty when they agree.
    pub fn mismatches(&self, files: &BTreeMap<String, Digested>, directories: &BTreeSet<String>) -> Vec<String> {
        let mut problems = Vec::new();
        if self.format != MANIFEST_FORMAT && self.format != MANIFEST_FORMAT_1 {
            problems.push(format!(
                "the manifest has format {:?}, expected {MANIFEST_FORMAT:?} or {MANIFEST_FORMAT_1:?}",
                self.format
            ));
        }
        let mut listed = BTreeSet::new();
        for entry in &self.files {
            if !listed.insert(entry.path.as_str()) {
                problems.push(format!("the manifest lists {} twice", entry.path));
                continue;
            }
            match files.get(&entry.path) {
                None => problems.push(format!("{} is listed in the manifest but missing from the archive", entry.path)),
                Some(actual) => problems.extend(entry.mismatch(actual)),
            }
        }
        for path in files.keys().filter(|p| !listed.contains(p.as_str())) {
            problems.push(format!("{path} is in the archive but not in the manifest"));
        }
        let listed_dirs: BTreeSet<&str> = self.directories.iter().map(String::as_str).collect();
        for dir in directories.iter().filter(|d| !listed_dirs.contains(d.as_str())) {
            problems.push(format!("folder {dir} is in the archive but not in the manifest"));
        }
        for dir in listed_dirs.iter().filter(|d| !directories.contains(**d)) {
            problems.push(format!("folder {dir} is listed in the manifest but missing from the archive"));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(size: u64, hash: &str) -> Digested {
        Digested { size, sha256: Some(hash.to_string()), blake3: Some(hash.to_string()) }
    }

    fn manifest(files: &[(&str, u64, &str)], dirs: &[&str]) -> Manifest {
        Manifest {
            format: MANIFEST_FORMAT.to_string(),
            backup_id: 1,
            created_at: "2024-01-01T00:00:00Z".to_string(),
            files: files
                .iter()
                .map(|(p, s, h)| ManifestFile {
                    path: p.to_string(),
                    size: *s,
                    sha256: None,
                    blake3: Some(h.to_string()),
                })
                .collect(),
            directories: dirs.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn agreeing_manifest_has_no_mismatches() {
        let files = BTreeMap::from([("data/a".to_string(), digest(3, "aa"))]);
        let dirs = BTreeSet::from(["data".to_string()]);
        assert!(manifest(&[("data/a", 3, "AA")], &["data"]).mismatches(&files, &dirs).is_empty());
    }

    #[test]
    fn format_1_manifests_are_checked_by_sha256() {
        let files =
            BTreeMap::from([("data/a".to_string(), Digested { size: 3, sha256: Some("aa".into()), blake3: None })]);
        let mut old = manifest(&[], &[]);
        old.format = MANIFEST_FORMAT_1.to_string();
        old.files = vec![ManifestFile { path: "data/a".into(), size: 3, sha256: Some("AA".into()), blake3: None }];
        assert!(old.mismatches(&files, &BTreeSet::new()).is_empty());
        old.files[0].sha256 = Some("bb".into());
        assert!(old.mismatches(&files, &BTreeSet::new())[0].contains("has SHA-256 aa, the manifest says bb"));
    }

    #[test]
    fn every_disagreement_is_reported() {
        let files = BTreeMap::from([
            ("data/a".to_string(), digest(3, "aa")),
            ("data/b".to_string(), digest(1, "bb")),
            ("data/extra".to_string(), digest(1, "cc")),
        ]);
        let dirs = BTreeSet::from(["data".to_string(), "data/x".to_string()]);
        let lying = manifest(&[("data/a", 4, "aa"), ("data/b", 1, "00"), ("data/gone", 1, "dd")], &["data", "public"]);
        let problems = lying.mismatches(&files, &dirs);
        assert_eq!(problems.len(), 6, "{problems:#?}");
        assert!(problems[0].contains("data/a is 3 bytes"));
        assert!(problems[1].contains("data/b has BLAKE3"));
        assert!(problems[2].contains("data/gone is listed"));
        assert!(problems[3].contains("data/extra is in the archive"));
        assert!(problems[4].contains("folder data/x"));
        assert!(problems[5].contains("folder public"));
    }
}
