//! Making and removing the folders the plugin owns (job folders, staging
//! folders).

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

/// Makes the folder `path`, whose parent exists.
pub fn create_folder(path: &Path) -> Result<()> {
    fs::create_dir(path).map_err(|e| PluginError::io("create", path, &e))
}
