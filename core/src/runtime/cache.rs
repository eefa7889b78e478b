//! The cache of precompiled plugins. Compiling a component takes a noticeable
//! fraction of a second; loading the precompiled artifact takes well under a
//! millisecond.
//!
//! A cache file is named after the SHA-256 of the component's bytes and the
//! engine's compatibility hash, so a new plugin or a new wasmtime never picks
//! up a stale artifact. Its content is a magic line, the SHA-256 of the
//! artifact, then the artifact: loading an artifact runs native code, so a
//! file whose digest does not match (truncated, flipped bytes) is ignored and
//! rewritten rather than trusted. Files are written atomically (temporary
//! name, then rename), and any failure to read or write the cache only costs
//! a compile.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// First bytes of every cache file written by this host.
const MAGIC: &[u8] = b"kinesis-backup precompiled component v1\n";

/// Where the loaded component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactOrigin {
    /// Compiled from the wasm bytes during this load.
    Compiled,
    /// Loaded from a precompiled artifact in the cache.
    Cache,
}

/// The default cache folder: `$XDG_CACHE_HOME/kinesis-backup`, else
/// `~/.cache/kinesis-backup`; `None` when neither variable is set.
pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()).map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|home| PathBuf::from(home).join(".cache"))
    })?;
    Some(base.join("kinesis-backup"))
}

/// The cache file for `wasm_sha256` (hex) compiled by `engine`, in `dir`.
pub(crate) fn cache_file(dir: &Path, engine: &Engine, wasm_sha256: &str) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{wasm_sha256}-{:016x}.cwasm", hasher.finish()))
}

/// Loads the component from `file` when it holds an intact artifact written
/// by this host; `None` (after a log line) otherwise.
pub(crate) fn load(engine: &Engine, file: &Path) -> Option<Component> {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!("cannot read the plugin cache file {}: {e}; compiling instead", file.display());
            return None;
        }
    };
    let Some(artifact) = checked_artifact(&bytes) else {
        tracing::warn!("the plugin cache file {} is damaged; compiling and rewriting it", file.display());
        return None;
    };
    // SAFETY: `artifact` was produced by `Component::serialize` of an engine
    // with the same compatibility hash (it is part of the file name), and its
    // SHA-256 matches the digest written next to it, so these are exactly the
    // bytes this host wrote.
    match unsafe { Component::deserialize(engine, artifact) } {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!("the plugin cache file {} is unusable ({e}); compiling and rewriting it", file.display());
            None
        }
    }
}

/// The artifact inside a cache file, if the magic and digest match.
fn checked_artifact(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(MAGIC)?;
    if rest.len() < 32 {
        return None;
    }
    let (digest, artifact) = rest.split_at(32);
    (Sha256::digest(artifact).as_slice() == digest).then_some(artifact)
}

/// Writes `component`'s artifact to `file` atomically. Failures are logged
/// and otherwise ignored: the cache is an optimisation.
pub(crate) fn store(component: &Component, file: &Path) {
    if let Err(e) = try_store(component, file) {
        tracing::warn!("cannot write the plugin cache file {}: {e}; the next start compiles again", file.display());
    }
}

fn try_store(component: &Component, file: &Path) -> Result<(), String> {
    let artifact = component.serialize().map_err(|e| e.to_string())?;
    let dir = file.parent().ok_or("the cache file has no folder")?;
    create_private_dir(dir).map_err(|e| e.to_string())?;
    // Unique per process and per call: several threads may load at once.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let temp = dir.join(format!(
        ".{}.{}-{}.tmp",
        file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| -> std::io::Result<()> {
        let mut out = std::fs::File::create(&temp)?;
        out.write_all(MAGIC)?;
        out.write_all(&Sha256::digest(&artifact))?;
        out.write_all(&artifact)?;
        out.sync_all()?;
        std::fs::rename(&temp, file)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.map_err(|e| e.to_string())
}

/// Creates the cache folder, readable by its owner only on Unix.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_artifact_is_refused() {
        let artifact = b"compiled code".to_vec();
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&Sha256::digest(&artifact));
        file.extend_from_slice(&artifact);
        assert_eq!(checked_artifact(&file), Some(artifact.as_slice()));

        let mut flipped = file.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(checked_artifact(&flipped), None);
        assert_eq!(checked_artifact(&file[..MAGIC.len() + 10]), None);
        assert_eq!(checked_artifact(b"something else"), None);
    }
}
