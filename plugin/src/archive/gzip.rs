//! A gzip writer (one member, RFC 1952) that can store pieces of the stream
//! instead of deflating them, plus a cheap test of whether data is worth
//! compressing at all.
//!
//! Deflate spends most of its time looking for matches, and in data that
//! has none (already compressed or random files) that time buys nothing:
//! storing such data is far faster and no larger. `flate2`'s `GzEncoder`
//! cannot do that mid-stream, and the zlib-rs backend cannot switch a
//! running compressor to level 0 (its `set_level` fails once data has gone
//! through), so [`GzipWriter`] writes the stored blocks itself.

use std::io::{self, Write};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// The fixed part of the gzip header: magic, method deflate, no flags, no
/// modification time, no extra flags, operating system "unknown".
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// Compressed output is handed to the inner writer in pieces of this size.
const OUTPUT_CHUNK: usize = 256 << 10;
/// Largest content of one stored deflate block.
const MAX_STORED_BLOCK: usize = u16::MAX as usize;
/// How far back deflate matches may reach (and so the history a restarted
/// compressor needs).
const WINDOW: usize = 32 << 10;

/// How the data written next goes into the deflate stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// Deflated at the writer's level.
    Deflate,
    /// Copied as it is into stored blocks (5 bytes added per 64 KiB).
    Store,
}

/// Writes one gzip member: everything written is deflated (raw deflate, no
/// zlib header) or stored, as [`GzipWriter::set_packing`] last said,
/// followed on [`GzipWriter::finish`] by the CRC-32 and length trailer. The
/// result is an ordinary `.gz` stream.
pub struct GzipWriter<W: Write> {
    inner: W,
    deflate: Compress,
    crc: Crc,
    packing: Packing,
    /// Scratch space for the compressor's output.
    out: Vec<u8>,
    /// While storing, the last (up to [`WINDOW`]) bytes stored: the
    /// compressor gets them as its history when deflating resumes, so it
    /// can still refer back to them.
    history: Vec<u8>,
}

impl<W: Write> GzipWriter<W> {
    /// Writes the gzip header to `inner` and starts deflating at `level`.
    pub fn new(mut inner: W, level: Compression) -> io::Result<Self> {
        inner.write_all(&GZIP_HEADER)?;
        Ok(GzipWriter {
            inner,
            deflate: Compress::new(level, false),
            crc: Crc::new(),
            packing: Packing::Deflate,
            out: Vec::with_capacity(OUTPUT_CHUNK),
            history: Vec::new(),
        })
    }

    /// The writer the member goes to.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// How data written now is packed.
    pub fn packing(&self) -> Packing {
        self.packing
    }

    /// Packs what is written from now on as `packing` says. A change ends
    /// the current deflate block (a few bytes), so callers should switch
    /// only between large pieces; keeping the current packing costs nothing.
    pub fn set_packing(&mut self, packing: Packing) -> io::Result<()> {
        if packing == self.packing {
            return Ok(());
        }
        match packing {
            Packing::Store => {
                // A sync flush emits everything pending and leaves the
                // stream on a byte boundary, where a stored block may start.
                self.deflate_into_inner(&[], FlushCompress::Sync)?;
                self.history.clear();
            }
            Packing::Deflate => {
                // A fresh raw compressor just emits further blocks; it is
                // told what it may refer back to.
                self.deflate.reset();
                self.deflate.set_dictionary(&self.history).map_err(io::Error::other)?;
            }
        }
        self.packing = packing;
        Ok(())
    }

    /// Ends the deflate stream, writes the trailer and returns the inner
    /// writer (not flushed).
    pub fn finish(mut self) -> io::Result<W> {
        // Only the compressor can write the final block.
        self.set_packing(Packing::Deflate)?;
        self.deflate_into_inner(&[], FlushCompress::Finish)?;
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&self.crc.sum().to_le_bytes());
        trailer[4..].copy_from_slice(&self.crc.amount().to_le_bytes());
        self.inner.write_all(&trailer)?;
        Ok(self.inner)
    }

    /// Feeds all of `input` to the compressor with `flush`, writing the
    /// output to the inner writer, until the input is consumed and the flush
    /// is complete.
    fn deflate_into_inner(&mut self, mut input: &[u8], flush: FlushCompress) -> io::Result<()> {
        loop {
            self.out.clear();
            let before = self.deflate.total_in();
            let status = self.deflate.compress_vec(input, &mut self.out, flush).map_err(io::Error::other)?;
            // total_in grew by at most input.len(), so this fits in usize.
            let consumed = (self.deflate.total_in() - before) as usize;
            input = &input[consumed..];
            self.inner.write_all(&self.out)?;
            let output_room_left = self.out.len() < self.out.capacity();
            let done = match flush {
                FlushCompress::None => input.is_empty(),
                FlushCompress::Finish => status == Status::StreamEnd,
                _ => input.is_empty() && output_room_left,
            };
            if done {
                return Ok(());
            }
        }
    }

    /// Writes `data` as non-final stored blocks and remembers its tail.
    fn store(&mut self, data: &[u8]) -> io::Result<()> {
        for block in data.chunks(MAX_STORED_BLOCK) {
            // chunks() keeps each block within u16.
            let len = block.len() as u16;
            let [len_lo, len_hi] = len.to_le_bytes();
            let [nlen_lo, nlen_hi] = (!len).to_le_bytes();
            // First byte: BFINAL = 0, BTYPE = 00 (stored), then padding.
            self.inner.write_all(&[0, len_lo, len_hi, nlen_lo, nlen_hi])?;
            self.inner.write_all(block)?;
        }
        let tail = &data[data.len().saturating_sub(WINDOW)..];
        let excess = (self.history.len() + tail.len()).saturating_sub(WINDOW);
        self.history.drain(..excess);
        self.history.extend_from_slice(tail);
        Ok(())
    }
}

impl<W: Write> Write for GzipWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.packing {
            Packing::Deflate => self.deflate_into_inner(buf, FlushCompress::None)?,
            Packing::Store => self.store(buf)?,
        }
        self.crc.update(buf);
        Ok(buf.len())
    }

    /// Makes everything written so far decodable from the inner writer (a
    /// sync flush when deflating) and flushes the inner writer.
    fn flush(&mut self) -> io::Result<()> {
        if self.packing == Packing::Deflate {
            self.deflate_into_inner(&[], FlushCompress::Sync)?;
        }
        self.inner.flush()
    }
}

/// Decides whether data is worth compressing from a sample of it, by
/// compressing the sample at the fastest level and comparing sizes.
pub struct CompressibilityProbe {
    deflate: Compress,
    out: Vec<u8>,
}

impl CompressibilityProbe {
    /// Largest sample looked at; longer samples are cut to this. Random
    /// data and text differ plainly well within it.
    pub const SAMPLE: usize = 32 << 10;
    /// Data counts as compressible when the fast level shrinks it to at most
    /// this fraction (in percent) of its size.
    const WORTHWHILE_PERCENT: usize = 97;

    /// A probe with its scratch buffers (64 KiB plus the compressor).
    pub fn new() -> Self {
        CompressibilityProbe {
            deflate: Compress::new(Compression::fast(), false),
            // Room for the worst case, so the compressor always finishes:
            // zlib-rs's fastest level can panic when output space runs out.
            out: vec![0; 2 * Self::SAMPLE],
        }
    }

    /// Whether `sample` (at most [`Self::SAMPLE`] bytes of it are used)
    /// shrinks enough under compression to be worth compressing.
    pub fn compressible(&mut self, sample: &[u8]) -> bool {
        let sample = &sample[..sample.len().min(Self::SAMPLE)];
        if sample.is_empty() {
            return true;
        }
        self.deflate.reset();
        let result = self.deflate.compress(sample, &mut self.out, FlushCompress::Finish);
        let compressed = usize::try_from(self.deflate.total_out()).unwrap_or(usize::MAX);
        // Should the compressor fail, compressing the data normally is safe.
        result.is_err() || compressed * 100 <= sample.len() * Self::WORTHWHILE_PERCENT
    }
}

impl Default for CompressibilityProbe {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::{GzDecoder, MultiGzDecoder};

    use super::*;

    /// Text-like data that deflates well.
    fn text(len: usize) -> Vec<u8> {
        let words = ["backup ", "restore ", "tenant ", "archive ", "plugin\n"];
        let mut out = Vec::with_capacity(len + 16);
        let mut state = 7u32;
        while out.len() < len {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            out.extend_from_slice(words[(state >> 16) as usize % words.len()].as_bytes());
        }
        out.truncate(len);
        out
    }

    /// Bytes with no structure (xorshift), which do not deflate.
    fn noise(len: usize) -> Vec<u8> {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        GzDecoder::new(bytes).read_to_end(&mut out).expect("valid gzip");
        out
    }

    #[test]
    fn round_trips_through_gz_decoder() {
        let data = text(300_000);
        let mut writer = GzipWriter::new(Vec::new(), Compression::new(6)).unwrap();
        writer.write_all(&data).unwrap();
        let bytes = writer.finish().unwrap();
        assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8]);
        assert!(bytes.len() < data.len() / 2, "text should compress, got {} bytes", bytes.len());
        assert_eq!(gunzip(&bytes), data);
    }

    #[test]
    fn empty_input_is_a_valid_empty_member() {
        let bytes = GzipWriter::new(Vec::new(), Compression::new(6)).unwrap().finish().unwrap();
        assert_eq!(gunzip(&bytes), b"");
        // The trailer is CRC-32 0 and length 0.
        assert_eq!(&bytes[bytes.len() - 8..], &[0; 8]);
    }

    #[test]
    fn packing_can_change_between_pieces() {
        // Text after stored text must still decode: the compressor refers
        // back into what was stored.
        let shared = text(40_000);
        let pieces = [text(200_000), noise(300_000), shared.clone(), shared, noise(1), text(5), noise(200_000)];
        let packings = [Packing::Deflate, Packing::Store, Packing::Store, Packing::Deflate];
        let mut writer = GzipWriter::new(Vec::new(), Compression::new(6)).unwrap();
        for (piece, packing) in pieces.iter().zip(packings.iter().cycle()) {
            writer.set_packing(*packing).unwrap();
            assert_eq!(writer.packing(), *packing);
            // Several writes per piece, as a copy loop would make.
            for chunk in piece.chunks(70_000) {
                writer.write_all(chunk).unwrap();
            }
        }
        // Finishing while storing still ends the stream properly.
        assert_eq!(writer.packing(), Packing::Store);
        let bytes = writer.finish().unwrap();
        let mut decoded = Vec::new();
        // Exactly one member: MultiGzDecoder would also read any that follow.
        MultiGzDecoder::new(&bytes[..]).read_to_end(&mut decoded).unwrap();
        assert_eq!(decoded, pieces.concat());
        assert_eq!(gunzip(&bytes), decoded);
    }

    #[test]
    fn deflating_after_storing_reuses_the_stored_history() {
        // Noise, so that only matches into the history can shrink it.
        let repeated = noise(20_000);
        let size_with = |history_kept: bool| {
            let mut writer = GzipWriter::new(Vec::new(), Compression::new(6)).unwrap();
            writer.set_packing(Packing::Store).unwrap();
            writer.write_all(if history_kept { &repeated } else { b"" }).unwrap();
            writer.set_packing(Packing::Deflate).unwrap();
            writer.write_all(&repeated).unwrap();
            let bytes = writer.finish().unwrap();
            let expected = if history_kept { [&repeated[..], &repeated[..]].concat() } else { repeated.clone() };
            assert_eq!(gunzip(&bytes), expected);
            bytes.len() - if history_kept { repeated.len() } else { 0 }
        };
        // The second copy becomes a few matches into the stored first one.
        assert!(size_with(true) < size_with(false) / 10, "{} vs {}", size_with(true), size_with(false));
    }

    #[test]
    fn storing_noise_costs_almost_nothing() {
        let data = noise(1 << 20);
        let mut writer = GzipWriter::new(Vec::new(), Compression::new(6)).unwrap();
        writer.set_packing(Packing::Store).unwrap();
        writer.write_all(&data).unwrap();
        let bytes = writer.finish().unwrap();
        // 17 stored blocks of 5 bytes, gzip header and trailer, flush marks.
        assert!(bytes.len() < data.len() + 120, "stored 1 MiB took {} bytes", bytes.len());
        assert_eq!(gunzip(&bytes), data);
    }

    #[test]
    fn flush_makes_written_data_decodable() {
        let data = text(10_000);
        let mut writer = GzipWriter::new(Vec::new(), Compression::new(6)).unwrap();
        writer.write_all(&data).unwrap();
        writer.flush().unwrap();
        let mut decoder = flate2::read::DeflateDecoder::new(&writer.inner[GZIP_HEADER.len()..]);
        let mut decoded = vec![0; data.len()];
        decoder.read_exact(&mut decoded).unwrap();
        assert_eq!(decoded, data);
    }

    #[test]
    fn probe_tells_text_from_noise() {
        let mut probe = CompressibilityProbe::new();
        for len in [1, 100, 4096, 40_000, 1 << 20] {
            assert!(!probe.compressible(&noise(len)), "noise of {len} bytes");
        }
        for len in [4096, 40_000, 1 << 20] {
            assert!(probe.compressible(&text(len)), "text of {len} bytes");
        }
        // The probe is reusable and ignores what lies past its sample.
        let mut mixed = text(CompressibilityProbe::SAMPLE);
        mixed.extend(noise(1 << 20));
        assert!(probe.compressible(&mixed));
        assert!(probe.compressible(b""));
    }
}
