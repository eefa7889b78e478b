//! A SHA-256 whose running state can be saved and resumed in another
//! instance: the first part of an archive is hashed by the instance that
//! writes it, and the instance that joins the parts goes on from there
//! instead of reading those bytes again.

use serde::{Deserialize, Serialize};
use sha2::digest::generic_array::GenericArray;

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const INITIAL: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const BLOCK: usize = 64;

/// A SHA-256 in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumableSha256 {
    /// The chaining value after the whole blocks so far.
    state: [u32; 8],
    /// Bytes hashed so far, whole blocks and `pending` together.
    length: u64,
    /// The bytes after the last whole block (fewer than 64).
    pending: Vec<u8>,
}

impl Default for ResumableSha256 {
    fn default() -> Self {
        ResumableSha256 { state: INITIAL, length: 0, pending: Vec::with_capacity(BLOCK) }
    }
}

impl ResumableSha256 {
    /// A fresh hash.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes hashed so far.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// Whether a saved state is one this type could have produced.
    pub fn is_well_formed(&self) -> bool {
        self.pending.len() < BLOCK && self.length % BLOCK as u64 == self.pending.len() as u64
    }

    /// Hashes `data` after what came before.
    pub fn update(&mut self, mut data: &[u8]) {
        self.length += data.len() as u64;
        if !self.pending.is_empty() {
            let take = (BLOCK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() < BLOCK {
                return;
            }
            compress(&mut self.state, &self.pending);
            self.pending.clear();
        }
        let whole = data.len() / BLOCK * BLOCK;
        data[..whole].chunks_exact(BLOCK).for_each(|block| compress(&mut self.state, block));
        self.pending.extend_from_slice(&data[whole..]);
    }

    /// The digest, lowercase hex.
    pub fn finish(mut self) -> String {
        let bits = self.length.wrapping_mul(8);
        let mut tail = std::mem::take(&mut self.pending);
        tail.push(0x80);
        while tail.len() % BLOCK != BLOCK - 8 {
            tail.push(0);
        }
        tail.extend_from_slice(&bits.to_be_bytes());
        tail.chunks_exact(BLOCK).for_each(|block| compress(&mut self.state, block));
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(self.state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        hex::encode(digest)
    }
}

/// Runs SHA-256's compression over one 64-byte block, in place.
fn compress(state: &mut [u32; 8], block: &[u8]) {
    sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn agrees_with_sha2_however_the_input_is_cut_and_resumed() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in [0, 1, 55, 56, 63, 64, 65, 119, 128, 1000, 5000] {
            let expected = hex::encode(Sha256::digest(&data[..len]));
            for cut in [0, 1, 63, 64, len / 2, len] {
                let cut = cut.min(len);
                let mut first = ResumableSha256::new();
                first.update(&data[..cut]);
                let saved = serde_json::to_string(&first).unwrap();
                let mut resumed: ResumableSha256 = serde_json::from_str(&saved).unwrap();
                assert!(resumed.is_well_formed());
                for piece in data[cut..len].chunks(37) {
                    resumed.update(piece);
                }
                assert_eq!(resumed.length(), len as u64);
                assert_eq!(resumed.finish(), expected, "len {len}, cut {cut}");
            }
        }
    }
}
