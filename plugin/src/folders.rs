//! Removing folder trees the plugin made (job folders, staging folders).

use std::fs;
use std::io;
use std::path::Path;

use crate::error::{PluginError, Result};

/// Removes the tree at `path`; a tree that is not there is fine.
pub fn remove_tree(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(PluginError::io("remove", path, &err)),
    }
}
