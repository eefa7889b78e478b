//! The snapshot's search section: one line per backup, in the order of the
//! order section, holding what search compares with the lower-cased needle,
//! so that a search scans one compact block of bytes instead of decoding
//! records or index lines.
//!
//! A line is `NAME \0 DESCRIPTION \0 FLAG \n`, with name and description
//! lower-cased. A NUL or line feed inside them is stored as U+FFFD and the
//! flag is `~` instead of `=`: a match on such a line may be false (or, for
//! a needle holding a NUL or line feed, missed), so the caller checks those
//! lines against the record. A needle without NUL and line feed matches
//! inside one field only, never across the separators, so every match on a
//! `=` line is exact.

/// Flag of a line stored as it is.
const EXACT: u8 = b'=';
/// Flag of a line that had NULs or line feeds replaced.
const REPLACED: u8 = b'~';

/// Appends the search line of a backup.
pub(super) fn push_line(out: &mut Vec<u8>, name: &str, description: &str) {
    let mut replaced = false;
    for field in [name, description] {
        for c in field.to_lowercase().chars() {
            match c {
                '\0' | '\n' => {
                    replaced = true;
                    out.extend_from_slice(char::REPLACEMENT_CHARACTER.encode_utf8(&mut [0; 4]).as_bytes());
                }
                c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        out.push(0);
    }
    out.push(if replaced { REPLACED } else { EXACT });
    out.push(b'\n');
}

/// A line the search found: its number, and whether the record must be
/// checked (a line with replacements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Found {
    pub line: u32,
    pub check: bool,
}

/// The lines of `section` that contain `needle` (lower case, not empty), in
/// order, each once.
pub(super) fn scan(section: &[u8], needle: &str) -> Vec<Found> {
    let needle = needle.as_bytes();
    let mut found = Vec::new();
    if needle.contains(&0) || needle.contains(&b'\n') {
        // Only lines that had such characters can match.
        for (line, text) in (0..).zip(section.split(|b| *b == b'\n')) {
            if text.last() == Some(&REPLACED) {
                found.push(Found { line, check: true });
            }
        }
        return found;
    }
    // `line` is the number of the line starting at `line_start`.
    let (mut at, mut line, mut line_start) = (0, 0u32, 0);
    while let Some(hit) = find(&section[at..], needle) {
        let hit = at + hit;
        line += count_byte(&section[line_start..hit], b'\n') as u32;
        let end = find_byte(&section[hit..], b'\n').map_or(section.len(), |end| hit + end);
        // A one-character needle may be the flag itself, which is no text.
        let on_flag = hit + needle.len() == end && hit > 0 && section[hit - 1] == 0;
        if !on_flag {
            found.push(Found { line, check: section[end - 1] == REPLACED });
        }
        at = end + 1;
        line_start = at.min(section.len());
        line += 1;
        if at >= section.len() {
            break;
        }
    }
    found
}

/// Where `needle` (not empty) first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (first, rest) = needle.split_first()?;
    let mut at = 0;
    while at + needle.len() <= hay.len() {
        let candidate = at + find_byte(&hay[at..hay.len() - rest.len()], *first)?;
        if hay[candidate + 1..].starts_with(rest) {
            return Some(candidate);
        }
        at = candidate + 1;
    }
    None
}

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// A word with the high bit set in exactly the bytes of `word` equal to `byte`.
fn equal_bytes(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Where `byte` first occurs in `hay`, eight bytes at a time.
fn find_byte(hay: &[u8], byte: u8) -> Option<usize> {
    let mut chunks = hay.chunks_exact(8);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let hits = equal_bytes(word, byte);
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|b| *b == byte).map(|i| at + i)
}

/// How often `byte` occurs in `hay`, eight bytes at a time.
fn count_byte(hay: &[u8], byte: u8) -> usize {
    let mut chunks = hay.chunks_exact(8);
    let mut count = 0;
    for chunk in chunks.by_ref() {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        count += equal_bytes(word, byte).count_ones() as usize;
    }
    count + chunks.remainder().iter().filter(|b| **b == byte).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(texts: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, description) in texts {
            push_line(&mut out, name, description);
        }
        out
    }

    fn lines(found: Vec<Found>) -> Vec<(u32, bool)> {
        found.into_iter().map(|f| (f.line, f.check)).collect()
    }

    #[test]
    fn scan_finds_each_matching_line_once_and_never_across_fields() {
        let texts = [
            ("backup-1.tar.gz", "Nightly run, nightly"),
            ("backup-2.tar.gz", "checked"),
            ("NIGHT", "ly"),
            ("backup-4.tar.gz", "Straße und ÜBER"),
            ("x", "line\nbreak"),
            ("backup-6.tar.gz", "nightly"),
        ];
        let section = section(&texts);
        assert_eq!(lines(scan(&section, "nightly")), [(0, false), (5, false)]);
        assert_eq!(lines(scan(&section, "backup-")), [(0, false), (1, false), (3, false), (5, false)]);
        assert_eq!(lines(scan(&section, "über")), [(3, false)]);
        assert_eq!(lines(scan(&section, "ly")), [(0, false), (2, false), (5, false)]);
        // Lines with replaced characters are found, to be checked.
        assert_eq!(lines(scan(&section, "line\nb")), [(4, true)]);
        assert_eq!(lines(scan(&section, "\u{fffd}")), [(4, true)]);
        assert_eq!(lines(scan(&section, "q")), []);
        // The flags are not text.
        assert_eq!(lines(scan(&section, "=")), []);
        assert_eq!(lines(scan(&section, "~")), []);
    }

    #[test]
    fn byte_helpers_agree_with_plain_loops() {
        let hay: Vec<u8> = (0..300u32).map(|i| (i * 7 % 23) as u8 + b'a').collect();
        for byte in [b'a', b'b', b'w', b'z', 0x80, 0xff] {
            for start in [0, 1, 5, 9, 17, 290] {
                let part = &hay[start..];
                assert_eq!(find_byte(part, byte), part.iter().position(|b| *b == byte));
                assert_eq!(count_byte(part, byte), part.iter().filter(|b| **b == byte).count());
            }
        }
        let needle = &hay[100..106];
        assert_eq!(find(&hay, needle), hay.windows(needle.len()).position(|w| w == needle));
        assert_eq!(find(b"aab", b"ab"), Some(1));
        assert_eq!(find(b"ab", b"abc"), None);
    }
}
