//! Plans a create as parts that separate instances write at the same time:
//! every folder and regular file under the content roots, found by
//! [`walk`], goes to one part, so that the parts cost about the same time.
//! A file's cost is its size when it deflates, and a fraction of it when
//! its start does not compress (such files are stored, which is far
//! cheaper); the files are dealt out largest cost first to the part with
//! the least so far, and each part keeps them in walk order. The part that
//! will write the most bytes goes first: the first part's file starts the
//! archive and is hashed as it is written, while the others are read again
//! when they are appended to it.

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
const STORED_COST_DIVISOR: u64 = 5;
/// Cost of an entry besides its content (header, opening the file).
const ENTRY_COST: u64 = 4 << 10;
/// Roughly how much deflate shrinks what compresses, as a divisor.
const DEFLATED_SIZE_DIVISOR: u64 = 3;

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

/// The smallest piece worth reading on its own.
const MIN_PIECE: u64 = 16 << 20;
/// About how many pieces an archive is cut into at most, whatever its size.
const MAX_PIECES: u64 = 128;

impl Plan {
    /// How long a piece of the archive may grow before the next one starts:
    /// small enough that a restore can share the pieces out evenly among
    /// instances, large enough that each is worth an instance.
    pub fn piece_target(&self) -> u64 {
        let total: u64 = (0..self.parts.len()).map(|part| self.content_bytes(part)).sum();
        MIN_PIECE.max(total / MAX_PIECES)
    }

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
    let mut costed: Vec<(Estimate, usize, Item)> = Vec::with_capacity(files.len());
    for (order, item) in files.into_iter().enumerate() {
        costed.push((estimate(ctx, &item, &mut probe), order, item));
    }
    costed.sort_by(|a, b| b.0.cost.cmp(&a.0.cost).then(a.1.cmp(&b.1)));
    let mut loads = vec![0u64; count];
    let mut written = vec![0u64; count];
    let mut dealt: Vec<Vec<(usize, Item)>> = vec![Vec::new(); count];
    for (estimate, order, item) in costed {
        let lightest = (0..count).min_by_key(|&part| (loads[part], part)).unwrap_or(0);
        loads[lightest] += estimate.cost;
        written[lightest] += estimate.written;
        dealt[lightest].push((order, item));
    }
    let largest = (0..count).max_by_key(|&part| (written[part], std::cmp::Reverse(part))).unwrap_or(0);
    dealt.swap(0, largest);
    for (part, mut items) in dealt.into_iter().enumerate() {
        items.sort_by_key(|(order, _)| *order);
        parts[part].extend(items.into_iter().map(|(_, item)| item));
    }
    Ok(Plan { parts })
}

/// What writing an item is expected to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Estimate {
    /// Time, in units of a byte deflated.
    cost: u64,
    /// Bytes it adds to the archive.
    written: u64,
}

/// The estimated cost and output of writing `item`.
fn estimate(ctx: Context, item: &Item, probe: &mut CompressibilityProbe) -> Estimate {
    let size = item.size();
    let deflated = Estimate { cost: ENTRY_COST + size, written: size / DEFLATED_SIZE_DIVISOR };
    if size < PROBED_FROM {
        return deflated;
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
        Estimate { cost: ENTRY_COST + size / STORED_COST_DIVISOR, written: size }
    } else {
        deflated
    }
}
