//! Reading an archive as GNU tar reads it (a gzip'd tar, every gzip member)
//! and packing forged ones: the contract's archive format, nothing of any
//! one plugin's insides.

use std::io::Read;

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use tar::{EntryType, Header};

use super::fail::Outcome;
use super::tree::{Entry, Tree};

/// The most bytes a check unpacks from one archive.
const MAX_UNPACKED: u64 = 512 * 1024 * 1024;

/// One archive entry, with its raw path.
#[derive(Debug, Clone)]
pub struct Item {
    /// The path as stored.
    pub path: String,
    /// Its tar type.
    pub kind: EntryType,
    /// The target of a link.
    pub link: Option<String>,
    /// The content of a file.
    pub data: Vec<u8>,
}

impl Item {
    /// A regular file.
    pub fn file(path: &str, data: &[u8]) -> Item {
        Item { path: path.to_string(), kind: EntryType::Regular, link: None, data: data.to_vec() }
    }

    /// A symbolic (`Symlink`) or hard (`Link`) link.
    pub fn link(path: &str, kind: EntryType, target: &str) -> Item {
        Item { path: path.to_string(), kind, link: Some(target.to_string()), data: Vec::new() }
    }
}

/// The entries of a tar.gz file, or why GNU tar would not read it.
pub fn read_items(bytes: &[u8]) -> Outcome<Vec<Item>> {
    let fault = |e: std::io::Error| format!("the archive is not a gzip-compressed tar: {e}");
    let mut tar = tar::Archive::new(MultiGzDecoder::new(bytes).take(MAX_UNPACKED));
    let mut items = Vec::new();
    for entry in tar.entries().map_err(fault)? {
        let mut entry = entry.map_err(fault)?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        let link = entry.link_name_bytes().map(|l| String::from_utf8_lossy(&l).into_owned());
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(fault)?;
        items.push(Item { path, kind, link, data });
    }
    Ok(items)
}

/// What the archive holds of the tenant: `.env` and everything under
/// `data/`, `public/` and `translations/`, as a tree (folders that only
/// appear as parents of other entries included). Other entries (a
/// manifest, say) are the plugin's own and left out.
pub fn tenant_tree(items: &[Item]) -> Tree {
    let mut tree = Tree::new();
    for item in items {
        let path = item.path.trim_start_matches("./").trim_end_matches('/');
        let root = path.split('/').next().unwrap_or_default();
        if path != ".env" && !(["data", "public", "translations"].contains(&root) && path.len() > root.len()) {
            continue;
        }
        let mut parent = path;
        while let Some((up, _)) = parent.rsplit_once('/') {
            if up != root {
                tree.insert(up.to_string(), Entry::Dir);
            }
            parent = up;
        }
        let entry = match item.kind {
            EntryType::Directory => Entry::Dir,
            EntryType::Symlink | EntryType::Link => Entry::Link(item.link.clone().unwrap_or_default().into()),
            _ => Entry::File(item.data.clone()),
        };
        tree.insert(path.to_string(), entry);
    }
    tree
}

/// A GNU tar header for `item`; the path is written raw (no checks), so
/// `..` and absolute paths get through as they would in a forged archive.
fn raw_header(item: &Item) -> Outcome<Header> {
    let mut header = Header::new_gnu();
    header.set_entry_type(item.kind);
    header.set_size(item.data.len() as u64);
    header.set_mode(if item.kind == EntryType::Directory { 0o755 } else { 0o644 });
    header.set_mtime(1_700_000_000);
    let gnu = header.as_gnu_mut().ok_or("a GNU header")?;
    let link = item.link.as_deref().unwrap_or_default();
    if item.path.len() >= gnu.name.len() || link.len() >= gnu.linkname.len() {
        return Err(format!("the check cannot forge the long name {}", item.path));
    }
    gnu.name[..item.path.len()].copy_from_slice(item.path.as_bytes());
    gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
    header.set_cksum();
    Ok(header)
}

/// Packs `items` as one gzip member (short names raw, long ones through
/// the tar crate's long-name entries).
pub fn pack(items: &[Item]) -> Outcome<Vec<u8>> {
    let fault = |e: std::io::Error| format!("the check could not pack an archive: {e}");
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for item in items {
        if item.path.len() < 100 {
            tar.append(&raw_header(item)?, item.data.as_slice()).map_err(fault)?;
        } else {
            let mut header = raw_header(&Item { path: String::new(), ..item.clone() })?;
            tar.append_data(&mut header, &item.path, item.data.as_slice()).map_err(fault)?;
        }
    }
    tar.into_inner().map_err(fault)?.finish().map_err(fault)
}
