//! Creates, restores and verifies split into parts, run one part after
//! another here as separate instances would run them at once.

use std::fs;
use std::process::Command;

use super::{Fixture, random_bytes};
use crate::archive::layout::{ArchiveLayout, Piece};
use crate::jobs::create::CreateJob;
use crate::jobs::read::ReadJob;
use crate::jobs::{decode_all, encode};
use crate::records::Backup;
use crate::{backups, restore, verify};

fn fill(fx: &Fixture) {
    for i in 0..40 {
        fx.write(&format!("public/d{}/f{i}.txt", i % 5), format!("text {i} ").repeat(50 + i * 40).as_bytes());
    }
    fx.write("data/db.redb", &random_bytes(2 << 20, 3));
    fx.write("data/log.txt", "line of log\n".repeat(40_000).as_bytes());
    fs::create_dir_all(fx.roots.translations.join("empty")).unwrap();
}

/// A create in `parts` parts, the outcomes passed through the encoding the
/// host hands back.
fn create_in_parts(fx: &Fixture, parts: u32) -> Backup {
    create_in_pieces(fx, parts, None)
}

/// A create in `parts` parts, with pieces of about `piece_target` bytes
/// when given.
fn create_in_pieces(fx: &Fixture, parts: u32, piece_target: Option<u64>) -> Backup {
    let mut job = CreateJob::begin(fx.ctx(), "in parts", None, parts).unwrap();
    if let Some(target) = piece_target {
        job.piece_target = target;
    }
    let outcomes: Vec<Vec<u8>> =
        (0..job.parts()).map(|i| encode(&job.run_part(fx.ctx(), i).unwrap()).unwrap()).collect();
    job.finish(fx.ctx(), &decode_all(&outcomes).unwrap()).unwrap()
}

#[test]
fn a_create_in_parts_is_one_standard_archive_with_a_layout() {
    let fx = Fixture::new();
    fill(&fx);
    let backup = create_in_parts(&fx, 3);
    let layout: ArchiveLayout = backup.layout.clone().unwrap();
    assert_eq!(layout.pieces.len(), 4, "three parts and the tail");
    let archive = fx.roots.backups.join(&backup.name);
    assert_eq!(layout.fault(fs::metadata(&archive).unwrap().len()), None);
    assert_eq!(fx.backup_files().iter().filter(|n| n.starts_with(".job-")).count(), 0);
    let sha256 = Command::new("sha256sum").arg(&archive).output().unwrap();
    assert!(String::from_utf8_lossy(&sha256.stdout).starts_with(&backup.sha256));

    let listed = Command::new("tar").arg("-tzf").arg(&archive).output().unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let names = String::from_utf8(listed.stdout).unwrap();
    assert!(names.lines().any(|l| l == "data/log.txt") && names.lines().any(|l| l == "translations/empty/"));
    assert_eq!(names.lines().last(), Some("manifest.json"));
    assert!(verify::verify(fx.ctx(), backup.id).unwrap().ok);
}

#[test]
fn an_archive_made_in_parts_restores_in_parts_and_in_one_instance() {
    let fx = Fixture::new();
    fill(&fx);
    let before = fx.tree();
    let backup = create_in_parts(&fx, 2);

    // In one instance (the 1.0.0 `restore`).
    fx.write("data/db.redb", b"changed");
    restore::restore(fx.ctx(), backup.id).unwrap();
    assert_eq!(fx.tree(), before);

    // In parts, straight into emptied content folders as the host stages
    // them.
    for (_, root) in fx.roots.content() {
        fs::remove_dir_all(root).unwrap();
        fs::create_dir(root).unwrap();
    }
    *fx.host.env.borrow_mut() = b"OTHER=1\n".to_vec();
    let job = ReadJob::begin(fx.ctx(), backup.id, true).unwrap();
    assert_eq!(job.parts(), 2);
    let outcomes: Vec<_> = (0..job.parts()).rev().map(|i| job.run_part(fx.ctx(), i).unwrap()).rev().collect();
    let report = job.finish_restore(fx.ctx(), &outcomes).unwrap();
    assert_eq!(fx.tree(), before);
    assert_eq!(report.files, 43);

    let verify_job = ReadJob::begin(fx.ctx(), backup.id, false).unwrap();
    let outcomes: Vec<_> = (0..verify_job.parts()).map(|i| verify_job.run_part(fx.ctx(), i).unwrap()).collect();
    assert!(verify_job.finish_verify(fx.ctx(), &outcomes).unwrap().ok);
}

#[test]
fn a_damaged_piece_is_found_by_the_part_that_reads_it() {
    let fx = Fixture::new();
    fill(&fx);
    let backup = create_in_parts(&fx, 2);
    let layout = backup.layout.clone().unwrap();
    let archive = fx.roots.backups.join(&backup.name);
    let mut bytes = fs::read(&archive).unwrap();
    let inside_second = (layout.pieces[1].offset + layout.pieces[1].length / 2) as usize;
    bytes[inside_second] ^= 0x10;
    fs::write(&archive, &bytes).unwrap();

    let job = ReadJob::begin(fx.ctx(), backup.id, false).unwrap();
    let outcomes: Vec<_> = (0..job.parts()).map(|i| job.run_part(fx.ctx(), i).unwrap()).collect();
    let report = job.finish_verify(fx.ctx(), &outcomes).unwrap();
    assert!(!report.ok);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(report.problems[0].contains("checksum"), "{:?}", report.problems);
    let one_instance = verify::verify(fx.ctx(), backup.id).unwrap();
    assert!(!one_instance.ok);
}

#[test]
fn a_create_never_plans_more_parts_than_files_and_one_part_is_the_default() {
    let fx = Fixture::new();
    fx.write("data/only", b"x");
    let job = CreateJob::begin(fx.ctx(), "", None, 8).unwrap();
    assert_eq!(job.parts(), 1);
    job.abandon(fx.ctx());
    assert!(!fx.backup_files().iter().any(|n| n.starts_with(".job-")));
    let made = backups::create(fx.ctx(), "", None).unwrap();
    assert_eq!(made.layout.unwrap().pieces.len(), 2);
}

#[test]
fn the_part_writing_the_most_bytes_comes_first_and_costs_are_balanced() {
    let fx = Fixture::new();
    // Two text files that deflate (costly, small output) and one random
    // file of the same size (cheap to store, large output).
    fx.write("data/a.txt", "words of text ".repeat(40_000).as_bytes());
    fx.write("data/b.txt", "other words ".repeat(46_000).as_bytes());
    fx.write("public/noise.bin", &random_bytes(560_000, 5));
    let job = CreateJob::begin(fx.ctx(), "", None, 2).unwrap();
    let paths = |part: usize| -> Vec<String> {
        job.plan.parts[part]
            .iter()
            .filter_map(|item| match item {
                crate::archive::plan::Item::File { path, .. } => Some(path.clone()),
                crate::archive::plan::Item::Directory { .. } => None,
            })
            .collect()
    };
    assert!(paths(0).contains(&"public/noise.bin".to_string()), "{:?} / {:?}", paths(0), paths(1));
    // The two costly text files are not in the same part.
    assert_eq!(paths(1).len(), 1, "{:?} / {:?}", paths(0), paths(1));
    job.abandon(fx.ctx());
}

#[test]
fn parts_are_cut_into_pieces_that_restore_shares_out() {
    let fx = Fixture::new();
    fill(&fx);
    for i in 0..12 {
        fx.write(&format!("public/noise/{i}.bin"), &random_bytes(40_000, 100 + i));
    }
    let before = fx.tree();
    let backup = create_in_pieces(&fx, 2, Some(60_000));
    let layout = backup.layout.clone().unwrap();
    assert!(layout.pieces.len() > 6, "{} pieces", layout.pieces.len());
    let archive = fx.roots.backups.join(&backup.name);
    assert_eq!(layout.fault(fs::metadata(&archive).unwrap().len()), None);
    let listed = Command::new("tar").arg("-tzf").arg(&archive).output().unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));

    for (_, root) in fx.roots.content() {
        fs::remove_dir_all(root).unwrap();
        fs::create_dir(root).unwrap();
    }
    let job = ReadJob::begin(fx.ctx(), backup.id, true).unwrap();
    assert_eq!(job.parts(), layout.pieces.len() - 1, "one part per piece but the tail");
    let outcomes: Vec<_> = (0..job.parts()).map(|i| job.run_part(fx.ctx(), i).unwrap()).collect();
    job.finish_restore(fx.ctx(), &outcomes).unwrap();
    assert_eq!(fx.tree(), before);

    // A part that skips a piece it was given is caught.
    let mut short = outcomes.clone();
    short[1].digests.clear();
    short[1].contents.clear();
    let verify_job = ReadJob::begin(fx.ctx(), backup.id, false).unwrap();
    assert!(verify_job.finish_verify(fx.ctx(), &short).unwrap_err().to_string().contains("read 0 pieces"));
    assert!(verify::verify(fx.ctx(), backup.id).unwrap().ok);
}

#[test]
fn a_tail_that_holds_more_than_the_manifest_is_refused() {
    let fx = Fixture::new();
    fill(&fx);
    let backup = create_in_parts(&fx, 2);
    let bytes = fs::read(fx.roots.backups.join(&backup.name)).unwrap();
    // A record whose tail is the last part and the real tail together: the
    // finish reads a tail without extracting it, so its files would be
    // checked against the manifest but never restored.
    let mut layout = backup.layout.clone().unwrap();
    let tail = layout.pieces.pop().unwrap();
    let last = layout.pieces.pop().unwrap();
    let merged = &bytes[last.offset as usize..(tail.offset + tail.length) as usize];
    let blake3 = blake3::hash(merged).to_hex().to_string();
    layout.pieces.push(Piece { offset: last.offset, length: merged.len() as u64, blake3 });
    let job = ReadJob { layout: Some(layout), ..ReadJob::begin(fx.ctx(), backup.id, true).unwrap() };
    let outcomes: Vec<_> = (0..job.parts()).map(|i| job.run_part(fx.ctx(), i).unwrap()).collect();
    let refused = job.finish_restore(fx.ctx(), &outcomes).unwrap_err().to_string();
    assert!(refused.contains("it may hold only manifest.json"), "{refused}");
}

#[test]
fn a_recorded_layout_that_does_not_tile_the_file_is_read_whole_against_the_sha256() {
    let fx = Fixture::new();
    fill(&fx);
    let backup = create_in_parts(&fx, 2);
    let tail = backup.layout.clone().unwrap().pieces.pop().unwrap();
    let recorded = serde_json::to_string(&tail).unwrap();
    let length = if tail.length % 10 == 9 { tail.length - 1 } else { tail.length + 1 };
    let shifted = serde_json::to_string(&Piece { length, ..tail }).unwrap();
    fx.edit_catalog(|text| text.replace(&recorded, &shifted));

    let job = ReadJob::begin(fx.ctx(), backup.id, false).unwrap();
    assert_eq!(job.layout, None, "the layout that does not fit is set aside");
    assert_eq!(job.parts(), 1);
    assert!(verify::verify(fx.ctx(), backup.id).unwrap().ok, "the archive itself is sound");
    restore::restore(fx.ctx(), backup.id).unwrap();

    // Damage is still found: the whole file is held to its SHA-256.
    let archive = fx.roots.backups.join(&backup.name);
    let mut bytes = fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&archive, &bytes).unwrap();
    assert!(!verify::verify(fx.ctx(), backup.id).unwrap().ok);
}
