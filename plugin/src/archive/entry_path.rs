//! The checks every archive entry's path must pass before anything is
//! written for it: only `.env`, `manifest.json` and paths under `data/`,
//! `public/` and `translations/`, relative, without `..`, `.` or empty
//! components, without Windows prefixes or separators.

use super::manifest::MANIFEST_PATH;

/// Path of the tenant's `.env` inside an archive.
pub const ENV_PATH: &str = ".env";
/// The folders an archive may hold, in archive order.
pub const CONTENT_ROOTS: [&str; 3] = ["data", "public", "translations"];

/// What kind of entry a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A folder.
    Directory,
}

/// A checked entry path, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPath(String);

impl EntryPath {
    /// The path as text, components separated by `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the `.env` entry.
    pub fn is_env(&self) -> bool {
        self.0 == ENV_PATH
    }

    /// Whether this is the manifest entry.
    pub fn is_manifest(&self) -> bool {
        self.0 == MANIFEST_PATH
    }

    /// The path's components.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The folders containing this path, innermost last (`data/a/b` gives
    /// `data`, `data/a`).
    pub fn ancestors(&self) -> impl Iterator<Item = &str> {
        self.0.match_indices('/').map(|(at, _)| &self.0[..at])
    }
}

/// Checks the raw path of an archive entry of `kind`; the error says what
/// is wrong with it.
pub fn check_entry_path(raw: &[u8], kind: EntryKind) -> Result<EntryPath, String> {
    let shown = String::from_utf8_lossy(raw);
    let text = std::str::from_utf8(raw).map_err(|_| format!("entry {shown:?} has a name that is not valid UTF-8"))?;
    let refuse = |why: &str| Err(format!("entry {shown:?} {why}"));
    if text.is_empty() {
        return refuse("has an empty path");
    }
    if text.contains('\0') {
        return refuse("has a NUL byte in its path");
    }
    if text.starts_with('/') {
        return refuse("has an absolute path");
    }
    if text.contains('\\') {
        return refuse("uses a Windows path separator");
    }
    let path = match (text.strip_suffix('/'), kind) {
        (Some(stripped), EntryKind::Directory) => stripped,
        (Some(_), EntryKind::File) => return refuse("is a file whose path ends in '/'"),
        (None, _) => text,
    };
    let first = path.split('/').next().unwrap_or_default();
    if first.len() >= 2 && first.ends_with(':') {
        return refuse("has a Windows drive prefix");
    }
    for component in path.split('/') {
        match component {
            "" => return refuse("has an empty path component"),
            "." => return refuse("has a '.' path component"),
            ".." => return refuse("leaves its folder with '..'"),
            _ => {}
        }
    }
    let allowed = match kind {
        EntryKind::File => {
            path == ENV_PATH || path == MANIFEST_PATH || (path.contains('/') && CONTENT_ROOTS.contains(&first))
        }
        EntryKind::Directory => CONTENT_ROOTS.contains(&first),
    };
    if !allowed {
        return refuse("is outside what a backup holds (.env, manifest.json, data/, public/, translations/)");
    }
    Ok(EntryPath(path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntryKind::{Directory, File};

    #[test]
    fn accepts_what_a_backup_holds() {
        for (raw, kind, expected) in [
            (".env", File, ".env"),
            ("manifest.json", File, "manifest.json"),
            ("data/", Directory, "data"),
            ("data", Directory, "data"),
            ("data/db.redb", File, "data/db.redb"),
            ("public/img/é ü.png", File, "public/img/é ü.png"),
            ("translations/de/", Directory, "translations/de"),
            ("data/..hidden", File, "data/..hidden"),
        ] {
            assert_eq!(check_entry_path(raw.as_bytes(), kind).unwrap().as_str(), expected, "{raw}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for (raw, kind, why) in [
            ("", File, "empty path"),
            ("/etc/passwd", File, "absolute"),
            ("../evil", File, "'..'"),
            ("data/../../evil", File, "'..'"),
            ("data/./x", File, "'.'"),
            ("data//x", File, "empty path component"),
            ("data\\x", File, "Windows path separator"),
            ("C:/data/x", File, "drive prefix"),
            ("data/x/", File, "ends in '/'"),
            ("data", File, "outside"),
            (".env/", Directory, "outside"),
            ("etc/x", File, "outside"),
            ("datax/y", File, "outside"),
            ("manifest.json/", Directory, "outside"),
            ("data/a\0b", File, "NUL"),
        ] {
            let err = check_entry_path(raw.as_bytes(), kind).unwrap_err();
            assert!(err.contains(why), "{raw:?}: {err}");
        }
        let err = check_entry_path(b"data/\xff", File).unwrap_err();
        assert!(err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn ancestors_are_listed_outermost_first() {
        let path = check_entry_path(b"data/a/b", File).unwrap();
        assert_eq!(path.ancestors().collect::<Vec<_>>(), ["data", "data/a"]);
        assert_eq!(path.components().collect::<Vec<_>>(), ["data", "a", "b"]);
    }
}
