//! The highest backup id the host has seen made, kept in
//! `ROOT/.kinesis/ids.json`. The plugin's catalog never reuses an id, but
//! an uploaded archive gets its id from the host (its name carries it), so
//! the host keeps its own mark: an upload's id is above every id made
//! through this host, even of backups deleted since.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::files::write_atomic;

/// What the note holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Note {
    highest: u64,
}

/// The highest id noted in `file`; 0 when there is none.
pub fn highest(file: &Path) -> u64 {
    std::fs::read(file).ok().and_then(|bytes| serde_json::from_slice::<Note>(&bytes).ok()).map_or(0, |n| n.highest)
}

/// Raises the note in `file` to `id` when it is higher.
pub fn raise(file: &Path, id: u64) -> std::io::Result<()> {
    if id <= highest(file) {
        return Ok(());
    }
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec(&Note { highest: id }).map_err(std::io::Error::other)?;
    write_atomic(file, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_only_rises() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".kinesis/ids.json");
        assert_eq!(highest(&file), 0);
        raise(&file, 7).unwrap();
        raise(&file, 3).unwrap();
        assert_eq!(highest(&file), 7);
    }
}
