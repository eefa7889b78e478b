//! Where the pieces of an archive lie. An archive this plugin writes is a
//! series of gzip members: one piece per part of the create (whole tar
//! entries, no end marker), then the tail (the manifest entry and the tar
//! end marker). Concatenated gzip members are one gzip stream and
//! concatenated tar entries one tar, so GNU tar reads the file as usual;
//! the layout, kept in the backup's record, lets restore and verify inflate
//! the pieces at the same time, each checked against its own BLAKE3.

use serde::{Deserialize, Serialize};

/// The pieces of an archive, in file order; the last is the tail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveLayout {
    /// Every piece, covering the file from its first byte to its last.
    pub pieces: Vec<Piece>,
}

/// One piece: a run of gzip members holding whole tar entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Piece {
    /// Where it starts in the archive file.
    pub offset: u64,
    /// Its length in bytes.
    pub length: u64,
    /// Lowercase hex BLAKE3 of its bytes.
    pub blake3: String,
}

/// Which piece of an archive is being read, which decides how its tar
/// stream must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceRole {
    /// A part: whole entries and nothing after the last one.
    Part,
    /// The tail: the manifest, then the end-of-archive marker.
    Tail,
    /// A whole archive of unknown layout: entries, then the end marker.
    Whole,
}

impl ArchiveLayout {
    /// Why this layout cannot describe an archive of `size` bytes, if it
    /// cannot: the pieces must follow each other from byte 0 to the end,
    /// at least one part and the tail.
    pub fn fault(&self, size: u64) -> Option<String> {
        if self.pieces.len() < 2 {
            return Some(format!("the recorded layout has {} pieces; it needs a part and a tail", self.pieces.len()));
        }
        let mut expected = 0u64;
        for (index, piece) in self.pieces.iter().enumerate() {
            if piece.offset != expected || piece.length == 0 {
                return Some(format!("piece {index} of the recorded layout does not follow the one before"));
            }
            expected = expected.saturating_add(piece.length);
        }
        (expected != size).then(|| format!("the recorded layout covers {expected} bytes, the archive has {size}"))
    }

    /// The parts: every piece but the tail.
    pub fn parts(&self) -> &[Piece] {
        &self.pieces[..self.pieces.len().saturating_sub(1)]
    }

    /// The tail piece.
    pub fn tail(&self) -> Option<&Piece> {
        self.pieces.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(offset: u64, length: u64) -> Piece {
        Piece { offset, length, blake3: String::new() }
    }

    #[test]
    fn a_layout_must_tile_the_archive() {
        let good = ArchiveLayout { pieces: vec![piece(0, 10), piece(10, 5)] };
        assert_eq!(good.fault(15), None);
        assert_eq!(good.parts().len(), 1);
        assert!(good.fault(16).unwrap().contains("covers 15 bytes"));
        assert!(ArchiveLayout { pieces: vec![piece(0, 15)] }.fault(15).is_some());
        assert!(ArchiveLayout { pieces: vec![piece(0, 10), piece(11, 4)] }.fault(15).is_some());
        assert!(ArchiveLayout { pieces: vec![piece(0, 0), piece(0, 15)] }.fault(15).is_some());
    }
}
