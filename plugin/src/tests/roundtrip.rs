//! Create then restore through the real code, and what GNU tar makes of it.

use std::fs;
use std::process::Command;

use super::{Fixture, random_bytes};
use crate::archive::name::parse_archive_name;
use crate::catalog::CATALOG_DIR;
use crate::error::PluginError;
use crate::{backups, restore, verify};

fn fill(fx: &Fixture) {
    fx.write("data/db.redb", &random_bytes(3 << 20, 7));
    fx.write("data/nested/deeper/still/file.bin", &random_bytes(5000, 9));
    fx.write("data/empty.txt", b"");
    fs::create_dir_all(fx.roots.data.join("empty-folder/inner")).unwrap();
    fx.write("public/logo – größe 日本.svg", "<svg>ünïcödé</svg>".as_bytes());
    let long = format!("public/{}/{}.txt", "d".repeat(90), "n".repeat(120));
    fx.write(&long, b"long names need GNU long-name entries");
    fx.write("translations/de.json", br#"{"hello":"hallo"}"#);
}

#[test]
fn restore_brings_back_exactly_what_was_backed_up() {
    let fx = Fixture::new();
    fill(&fx);
    let before = fx.tree();
    let backup = backups::create(fx.ctx(), "first", None).unwrap();
    assert!(parse_archive_name(&backup.name).is_some(), "{}", backup.name);
    assert_eq!(backup.name, "backup-20240103_1200_1.tar.gz");
    let archive = fx.roots.backups.join(&backup.name);
    assert_eq!(fs::metadata(&archive).unwrap().len(), backup.size);

    // Change everything.
    fx.write("data/db.redb", b"overwritten");
    fs::remove_file(fx.roots.data.join("empty.txt")).unwrap();
    fx.write("data/added-later.txt", b"must disappear");
    fx.write("public/new/folder/x", b"must disappear");
    fs::remove_file(fx.roots.translations.join("de.json")).unwrap();
    fs::remove_dir_all(fx.roots.data.join("empty-folder")).unwrap();
    *fx.host.env.borrow_mut() = b"SECRET=changed\n".to_vec();
    assert_ne!(fx.tree(), before);

    let report = restore::restore(fx.ctx(), backup.id).unwrap();
    assert_eq!(fx.tree(), before);
    let files = before.values().filter(|v| v.is_some()).count() as u64;
    let bytes: u64 = before.values().flatten().map(|v| v.len() as u64).sum();
    assert_eq!((report.files, report.bytes), (files, bytes));
    // Nothing but the archive, the catalog and its id mark is left in backups/.
    assert_eq!(fx.backup_files(), ["backup-20240103_1200_1.tar.gz", CATALOG_DIR]);
    let progress = fx.host.progress.borrow().clone();
    assert!(progress.len() >= 4 && progress.iter().all(|(done, total)| done <= total));
    assert!(progress.iter().any(|(done, total)| done == total && *total > 3 << 20));

    let check = verify::verify(fx.ctx(), backup.id).unwrap();
    assert!(check.ok, "{:?}", check.problems);
    assert_eq!((check.files_checked, check.bytes_checked), (files, bytes));
}

#[test]
fn gnu_tar_lists_and_extracts_the_archive() {
    let fx = Fixture::new();
    fill(&fx);
    let backup = backups::create(fx.ctx(), "", None).unwrap();
    let archive = fx.roots.backups.join(&backup.name);
    let listed = Command::new("tar").arg("-tzf").arg(&archive).output().expect("GNU tar is installed");
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed = String::from_utf8(listed.stdout).unwrap();
    let names: Vec<&str> = listed.lines().collect();
    assert_eq!(names.first(), Some(&".env"));
    assert_eq!(names.last(), Some(&"manifest.json"));
    assert!(names.contains(&"data/empty-folder/inner/"));

    let out = tempfile::tempdir().unwrap();
    let extracted = Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(out.path()).status().unwrap();
    assert!(extracted.success());
    let expected = fx.tree();
    for (path, content) in &expected {
        let on_disk = out.path().join(path);
        match content {
            Some(bytes) => assert_eq!(&fs::read(&on_disk).unwrap(), bytes, "{path}"),
            None => assert!(on_disk.is_dir(), "{path}"),
        }
    }
}

#[test]
fn failed_env_write_rolls_the_files_back() {
    let fx = Fixture::new();
    fill(&fx);
    let backup = backups::create(fx.ctx(), "", None).unwrap();
    fx.write("data/db.redb", b"current");
    fx.write("public/current.txt", b"current");
    let current = fx.tree();
    fx.host.fail_write_env.set(true);
    let err = restore::restore(fx.ctx(), backup.id).unwrap_err();
    assert!(
        matches!(&err, PluginError::Storage(m) if m.contains("the disk is full") && m.contains("put back")),
        "{err}"
    );
    assert_eq!(fx.tree(), current);
    assert_eq!(fx.backup_files(), [backup.name.as_str(), CATALOG_DIR]);
}

#[cfg(unix)]
#[test]
fn links_are_skipped_not_followed() {
    let fx = Fixture::new();
    let outside = fx.dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("secret"), b"outside").unwrap();
    std::os::unix::fs::symlink(&outside, fx.roots.data.join("link-to-dir")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), fx.roots.public.join("link-to-file")).unwrap();
    fx.write("data/real", b"real");
    let backup = backups::create(fx.ctx(), "", None).unwrap();
    let listed = Command::new("tar").arg("-tzf").arg(fx.roots.backups.join(&backup.name)).output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(listed.contains("data/real") && !listed.contains("link"), "{listed}");
    assert_eq!(fx.warnings().iter().filter(|w| w.contains("links are not followed")).count(), 2);
}

#[test]
fn restore_of_unknown_backup_is_not_found() {
    let fx = Fixture::new();
    assert!(matches!(restore::restore(fx.ctx(), 9), Err(PluginError::NotFound(_))));
    assert!(matches!(verify::verify(fx.ctx(), 9), Err(PluginError::NotFound(_))));
}
