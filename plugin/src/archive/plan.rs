//! Plans a create as parts that separate instances write at the same time:
//! every folder and regular file under the content roots, found by
//! [`walk`], goes to one part, so that the parts cost about the same time.
//! A file's cost is its size when it deflates, and a fraction of it when
//! its start does not compress (such files are stored, which is far
//! cheaper); the files are dealt out largest cost first to the part with
//! the least so far, and each part keeps them in walk order.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::gzip::CompressibilityProbe;
use super::walk::{Found, walk};
use crate::error::{PluginError, Result};
use crate::host::Context;

/// Files at least this large are probed for compressibility (and stored
/// when their start does not compress).
pub const PROBED_FROM: u64 = 128 << 10;
/// How much cheaper storing a byte is than deflating it, as a divisor.
const STORED_COST_DIVISOR: u64 = 8;
/// Cost of an entry besides its content (header, opening the file).
const ENTRY_COST: u64 = 4 << 10;

/// One thing to put in an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Item {
    /// A folder (its archive path, without a trailing slash).
    Directory {
        /// Path inside the archive.
        path: String,
        /// Modification time, seconds since the epoch.
        mtime: u64,
    },
    /// A regular file.
    File {
        /// Path inside the archive.
        path: String,
        /// Size when it was listed.
        size: u64,
        /// Modification time, seconds since the epoch.
        mtime: u64,
    },
}

/// The parts of a create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// What each part writes, in order; part 0 also writes `.env` and
    /// every folder.
    pub parts: Vec<Vec<Item>>,
}

impl Plan {
    /// Bytes of file content in part `index`.
    pub fn content_bytes(&self, index: usize) -> u64 {
        self.parts.get(index).map_or(0, |items| items.iter().map(Item::size).sum())
    }
}

impl Item {
    /// Bytes of content (0 for a folder).
    pub fn size(&self) -> u64 {
        match self {
            Item::Directory { .. } => 0,
            Item::File { size, .. } => *size,
        }
    }
}

/// Where the file or folder at archive path `path` is in the roots.
pub fn fs_path(ctx: Context, path: &str) -> Result<PathBuf> {
    let (root_name, rest) = path.split_once('/').unwrap_or((path, ""));
    let (_, root) = ctx
        .roots
        .content()
        .into_iter()
        .find(|(name, _)| *name == root_name)
        .ok_or_else(|| PluginError::Storage(format!("{path} lies outside the content folders")))?;
    Ok(if rest.is_empty() { root.clone() } else { root.join(rest) })
}

/// Lists everything to back up and deals it out to at most `parts` parts
/// (at least one; never more parts than files, beyond the first).
pub fn plan(ctx: Context, parts: u32) -> Result<Plan> {
    let wanted = parts.max(1) as usize;
    let mut directories = Vec::new();
    let mut files = Vec::new();
    walk(ctx, true, &mut |found| {
        match found {
            Found::Directory { archive_path, mtime } => {
                directories.push(Item::Directory { path: archive_path.to_string(), mtime })
            }
            Found::File { archive_path, size, mtime, .. } => {
                files.push(Item::File { path: archive_path.to_string(), size, mtime })
            }
        }
        Ok(())
    })?;
    let count = wanted.min(files.len().max(1));
    let mut parts: Vec<Vec<Item>> = vec![Vec::new(); count];
    parts[0] = directories;
    if count == 1 {
        parts[0].extend(files);
        return Ok(Plan { parts });
    }
    let mut probe = CompressibilityProbe::new();
    let mut costed: Vec<(u64, usize, Item)> = Vec::with_capacity(files.len());
    for (order, item) in files.into_iter().enumerate() {
        costed.push((cost(ctx, &item, &mut probe), order, item));
    }
    costed.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut loads = vec![0u64; count];
    let mut dealt: Vec<Vec<(usize, Item)>> = vec![Vec::new(); count];
    for (cost, order, item) in costed {
        let lightest = (0..count).min_by_key(|&part| (loads[part], part)).unwrap_or(0);
        loads[lightest] += cost;
        dealt[lightest].push((order, item));
    }
    for (part, mut items) in dealt.into_iter().enumerate() {
        items.sort_by_key(|(order, _)| *order);
        parts[part].extend(items.into_iter().map(|(_, item)| item));
    }
    Ok(Plan { parts })
}

/// The estimated cost of writing `item`.
fn cost(ctx: Context, item: &Item, probe: &mut CompressibilityProbe) -> u64 {
    let size = item.size();
    if size < PROBED_FROM {
        return ENTRY_COST + size;
    }
    let mut sample = vec![0u8; CompressibilityProbe::SAMPLE];
    let sampled = match item {
        Item::File { path, .. } => fs_path(ctx, path)
            .ok()
            .and_then(|p| File::open(p).ok())
            .and_then(|mut f| f.read(&mut sample).ok())
            .unwrap_or(0),
        Item::Directory { .. } => 0,
    };
    if sampled > 0 && !probe.compressible(&sample[..sampled]) {
        ENTRY_COST + size / STORED_COST_DIVISOR
    } else {
        ENTRY_COST + size
    }
}
