//! Damaged and hostile archives: restore refuses them and changes nothing,
//! verify reports them.

use std::fs;
use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{EntryType, Header};

use super::{Fixture, Tree};
use crate::archive::manifest::{MANIFEST_FORMAT, Manifest, ManifestFile};
use crate::catalog::CATALOG_DIR;
use crate::error::PluginError;
use crate::{backups, restore, verify};

/// One raw tar entry; paths are written as given, unchecked.
struct Raw<'a> {
    path: &'a str,
    kind: EntryType,
    data: &'a [u8],
    link: &'a str,
}

fn file<'a>(path: &'a str, data: &'a [u8]) -> Raw<'a> {
    Raw { path, kind: EntryType::Regular, data, link: "" }
}

fn link<'a>(path: &'a str, kind: EntryType, target: &'a str) -> Raw<'a> {
    Raw { path, kind, data: b"", link: target }
}

fn tar_entry(out: &mut Vec<u8>, entry: &Raw) {
    let mut header = Header::new_gnu();
    let gnu = header.as_gnu_mut().unwrap();
    gnu.name[..entry.path.len()].copy_from_slice(entry.path.as_bytes());
    gnu.linkname[..entry.link.len()].copy_from_slice(entry.link.as_bytes());
    header.set_entry_type(entry.kind);
    header.set_size(entry.data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(entry.data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

/// The manifest that truthfully describes `entries` for backup `id`.
fn truthful_manifest(id: u64, entries: &[Raw]) -> Manifest {
    Manifest {
        format: MANIFEST_FORMAT.to_string(),
        backup_id: id,
        created_at: "2024-01-01T00:00:00Z".to_string(),
        files: entries
            .iter()
            .filter(|e| e.kind == EntryType::Regular)
            .map(|e| ManifestFile {
                path: e.path.to_string(),
                size: e.data.len() as u64,
                sha256: None,
                blake3: Some(blake3::hash(e.data).to_hex().to_string()),
            })
            .collect(),
        directories: entries
            .iter()
            .filter(|e| e.kind == EntryType::Directory)
            .map(|e| e.path.trim_end_matches('/').to_string())
            .collect(),
    }
}

/// A gzipped tar of `entries`, then `manifest` (when given), then the end
/// marker (when `end`).
fn archive(entries: &[Raw], manifest: Option<&Manifest>, end: bool) -> Vec<u8> {
    let mut tar = Vec::new();
    for entry in entries {
        tar_entry(&mut tar, entry);
    }
    if let Some(manifest) = manifest {
        let json = serde_json::to_vec(manifest).unwrap();
        tar_entry(&mut tar, &file("manifest.json", &json));
    }
    if end {
        tar.extend_from_slice(&[0u8; 1024]);
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

/// Puts `bytes` in backups/ as the archive of backup `id` (adopted by the
/// catalog, so its recorded checksum matches the bytes).
fn install(fx: &Fixture, id: u64, bytes: &[u8]) {
    fs::write(fx.roots.backups.join(format!("backup-20240101_0000_{id}.tar.gz")), bytes).unwrap();
}

/// A tenant with some content, and its tree.
fn tenant() -> (Fixture, Tree) {
    let fx = Fixture::new();
    fx.write("data/db", b"current database");
    fx.write("public/index.html", b"<p>current</p>");
    let tree = fx.tree();
    (fx, tree)
}

/// Restores `id`, expects a corrupt-archive error containing `why`, and
/// checks that nothing changed; verify must report the same problem.
fn assert_refused(fx: &Fixture, before: &Tree, id: u64, why: &str) {
    let files_before = fx.backup_files();
    let err = restore::restore(fx.ctx(), id).unwrap_err();
    match &err {
        PluginError::CorruptArchive(message) => assert!(message.contains(why), "{why:?} not in {message}"),
        other => panic!("expected corrupt-archive containing {why:?}, got {other:?}"),
    }
    assert_eq!(&fx.tree(), before, "restore of a refused archive changed files");
    let mut files_after = fx.backup_files();
    files_after.retain(|n| n != CATALOG_DIR);
    let mut expected = files_before;
    expected.retain(|n| n != CATALOG_DIR);
    assert_eq!(files_after, expected, "staging was left behind");
    assert!(!fx.dir.path().join("evil").exists());
    let report = verify::verify(fx.ctx(), id).unwrap();
    assert!(!report.ok);
    assert!(report.problems.iter().any(|p| p.contains(why)), "{why:?} not in {:?}", report.problems);
}

#[test]
fn entries_outside_the_roots_are_refused() {
    let (fx, before) = tenant();
    let cases: [(&[Raw], &str); 7] = [
        (&[file("../evil", b"x")], "leaves its folder with '..'"),
        (&[file("data/../../evil", b"x")], "'..'"),
        (&[file("/evil", b"x")], "absolute path"),
        (&[file("etc/passwd", b"x")], "outside what a backup holds"),
        (&[file("data/./x", b"x")], "'.' path component"),
        (&[file("data/a", b"x"), file("data/a", b"y")], "more than once"),
        (&[file("data/a", b"x"), file("data/a/b", b"y")], "lies inside the file"),
    ];
    for (id, (entries, why)) in (1..).zip(cases) {
        install(&fx, id, &archive(entries, Some(&truthful_manifest(id, entries)), true));
        assert_refused(&fx, &before, id, why);
    }
}

#[test]
fn links_and_devices_are_refused() {
    let (fx, before) = tenant();
    let cases: [(Raw, &str); 3] = [
        (link("data/link", EntryType::Symlink, "/etc/passwd"), "symbolic link"),
        (link("data/hard", EntryType::Link, ".env"), "hard link"),
        (link("data/fifo", EntryType::Fifo, ""), "FIFO"),
    ];
    for (id, (entry, why)) in (1..).zip(cases) {
        let entries = [file("data/ok", b"ok"), entry];
        install(&fx, id, &archive(&entries, Some(&truthful_manifest(id, &entries)), true));
        assert_refused(&fx, &before, id, why);
    }
}

#[test]
fn manifests_that_lie_or_are_missing_are_refused() {
    let (fx, before) = tenant();
    let entries = [file(".env", b"A=1"), file("data/db", b"restored")];
    let mut lying = truthful_manifest(1, &entries);
    lying.files[1].blake3 = Some("00".repeat(32));
    install(&fx, 1, &archive(&entries, Some(&lying), true));
    assert_refused(&fx, &before, 1, "data/db has BLAKE3");

    let mut short = truthful_manifest(2, &entries);
    short.files.pop();
    install(&fx, 2, &archive(&entries, Some(&short), true));
    assert_refused(&fx, &before, 2, "data/db is in the archive but not in the manifest");

    install(&fx, 3, &archive(&entries, None, true));
    assert_refused(&fx, &before, 3, "no manifest.json");

    install(&fx, 4, &archive(&entries, Some(&truthful_manifest(4, &entries)), false));
    assert_refused(&fx, &before, 4, "end-of-archive marker");

    // The truthful archive itself restores.
    install(&fx, 5, &archive(&entries, Some(&truthful_manifest(5, &entries)), true));
    restore::restore(fx.ctx(), 5).unwrap();
    assert_eq!(fs::read(fx.roots.data.join("db")).unwrap(), b"restored");
    assert_eq!(*fx.host.env.borrow(), b"A=1");
    assert!(!fx.roots.public.join("index.html").exists());

    // An archive without .env leaves the tenant's .env alone.
    let entries = [file("data/db", b"without env")];
    install(&fx, 6, &archive(&entries, Some(&truthful_manifest(6, &entries)), true));
    let report = restore::restore(fx.ctx(), 6).unwrap();
    assert_eq!((report.files, report.bytes), (1, 11));
    assert_eq!(*fx.host.env.borrow(), b"A=1");
}

#[test]
fn damaged_gzip_streams_are_refused() {
    let (fx, before) = tenant();
    let good = backups::create(fx.ctx(), "", None).unwrap();
    let bytes = fs::read(fx.roots.backups.join(&good.name)).unwrap();

    install(&fx, 10, &bytes[..bytes.len() - 20]);
    assert_refused(&fx, &before, 10, "the archive cannot be read");

    let mut trailing = bytes.clone();
    trailing.extend_from_slice(b"garbage");
    install(&fx, 11, &trailing);
    assert_refused(&fx, &before, 11, "7 bytes of unexpected data follow the end of the gzip stream");

    // A second copy after the end marker is data after the tar stream.
    let mut two_members = bytes.clone();
    two_members.extend_from_slice(&bytes);
    install(&fx, 12, &two_members);
    assert_refused(&fx, &before, 12, "data follows the end of the tar stream");

    // A flipped bit in the recorded archive's gzip checksum (the trailer's
    // first four bytes).
    let mut flipped = bytes.clone();
    let crc = flipped.len() - 8;
    flipped[crc] ^= 0x40;
    fs::write(fx.roots.backups.join(&good.name), &flipped).unwrap();
    assert_refused(&fx, &before, good.id, "the gzip stream is incomplete or damaged");
}

#[test]
fn an_archive_whose_only_fault_is_a_recorded_digest_is_refused() {
    let (fx, before) = tenant();
    let good = backups::create(fx.ctx(), "", None).unwrap();
    let piece = good.layout.clone().unwrap().pieces[0].blake3.clone();
    fx.edit_catalog(|text| text.replace(&piece, &"0".repeat(64)));
    assert_refused(
        &fx,
        &before,
        good.id,
        &format!("piece 0 of the archive has BLAKE3 {piece}, but {} was recorded when it was made", "0".repeat(64)),
    );

    // The record's SHA-256 is what a person checks with sha256sum: verify
    // holds the file to it.
    fx.edit_catalog(|text| text.replace(&"0".repeat(64), &piece).replace(&good.sha256, &"0".repeat(64)));
    let report = crate::verify::verify(fx.ctx(), good.id).unwrap();
    assert!(!report.ok);
    assert_eq!(
        report.problems,
        [format!("the archive's SHA-256 is {}, but {} was recorded when it was made", good.sha256, "0".repeat(64))]
    );
}
