//! Bringing a remote copy back: the archive is downloaded (and decrypted)
//! into a temporary file under `ROOT/.kinesis/offsite/`, checked against
//! the SHA-256 and size of its record, and only then renamed into
//! `backups/` under its archive name, where the plugin's catalog adopts it.
//! A copy that does not match is removed and never reaches `backups/`.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::digest::{HashingReader, mismatch};
use super::queue::RemoteRecord;
use super::target::archive_file;
use super::{OffsiteError, Remote};
use crate::tenant::files::sync_dir;

/// Fetches `record`'s archive into `backups`, through `scratch`.
pub(super) fn fetch(
    remote: &Remote,
    scratch: &Path,
    backups: &Path,
    record: &RemoteRecord,
) -> Result<(), OffsiteError> {
    static FETCHES: AtomicU64 = AtomicU64::new(0);
    let backup = &record.backup;
    let local = |what: &str, err: std::io::Error| OffsiteError::Local(format!("{what}: {err}"));
    std::fs::create_dir_all(scratch).map_err(|err| local("cannot make the fetch folder", err))?;
    let temp = scratch.join(format!("fetch-{}-{}.part", std::process::id(), FETCHES.fetch_add(1, Ordering::Relaxed)));
    let fetched = (|| {
        let file = File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|err| local("cannot write the fetched copy", err))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let download = remote.store.reader(&archive_file(&backup.name, record.encrypted))?;
        let plain: Box<dyn Read + '_> = if record.encrypted {
            let identity = remote.config.identity.as_ref().ok_or_else(|| {
                OffsiteError::Config(format!(
                    "the offsite copy of {} is encrypted; give the identity file that decrypts it (--offsite-identity)",
                    backup.name
                ))
            })?;
            Box::new(identity.decrypt(download)?)
        } else {
            Box::new(download)
        };
        let mut reader = HashingReader::new(plain);
        std::io::copy(&mut reader, &mut out).map_err(|err| match err.downcast::<OffsiteError>() {
            Ok(offsite) => offsite,
            Err(err) => OffsiteError::Remote(format!("fetching {}: {err}", backup.name)),
        })?;
        let file = out.into_inner().map_err(|err| local("cannot write the fetched copy", err.into_error()))?;
        file.sync_all().map_err(|err| local("cannot write the fetched copy", err))?;
        if let Some(reason) = mismatch(&reader.finish(), backup) {
            return Err(OffsiteError::Mismatch { name: backup.name.clone(), reason });
        }
        let dest = backups.join(&backup.name);
        if dest.exists() {
            return Ok(());
        }
        std::fs::rename(&temp, &dest).map_err(|err| local("cannot move the fetched copy into backups/", err))?;
        sync_dir(backups).map_err(|err| local("cannot sync backups/", err))
    })();
    let _ = std::fs::remove_file(&temp);
    if fetched.is_ok() {
        tracing::info!("fetched {} from {}", backup.name, remote.store.describe());
    }
    fetched
}
