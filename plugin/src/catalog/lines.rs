//! The fixed-width text lines of the snapshot's order, id and expiry
//! sections. Every line of a section has the same length, so line `k` is
//! read with one seek and one small read, and numbers are lowercase hex of
//! a fixed width (signed times as their two's complement).
//!
//! - Order line (newest first): `ID CREATED EXPIRY OFFSET LENGTH`, with
//!   `EXPIRY` all `-` when there is none. `OFFSET` and `LENGTH` locate the
//!   record in the records section.
//! - Key line (id and expiry sections): `KEY POSITION`, the position being
//!   the backup's line number in the order section.

/// Bytes of an order line, line feed included.
pub(super) const ORDER_LINE: usize = 16 + 1 + 16 + 1 + 16 + 1 + 16 + 1 + 8 + 1;
/// Bytes of a key line, line feed included.
pub(super) const KEY_LINE: usize = 16 + 1 + 8 + 1;

/// What the order section holds of a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OrderLine {
    pub id: u64,
    pub created_at: i64,
    pub expiry: Option<i64>,
    /// Where the record starts in the records section.
    pub offset: u64,
    /// Bytes of the record, without its line feed.
    pub length: u32,
}

impl OrderLine {
    /// Whether the backup has expired at `now`, as `Backup::is_expired`.
    pub fn is_expired(&self, now: i64) -> bool {
        self.expiry.is_some_and(|expiry| expiry <= now)
    }
}

/// Appends the order line of `line`.
pub(super) fn push_order(out: &mut Vec<u8>, line: &OrderLine) {
    push_hex(out, line.id, 16);
    out.push(b' ');
    push_hex(out, line.created_at as u64, 16);
    out.push(b' ');
    match line.expiry {
        Some(expiry) => push_hex(out, expiry as u64, 16),
        None => out.extend_from_slice(&[b'-'; 16]),
    }
    out.push(b' ');
    push_hex(out, line.offset, 16);
    out.push(b' ');
    push_hex(out, u64::from(line.length), 8);
    out.push(b'\n');
}

/// Parses one order line (exactly [`ORDER_LINE`] bytes).
pub(super) fn parse_order(bytes: &[u8]) -> Option<OrderLine> {
    if bytes.len() != ORDER_LINE || bytes[ORDER_LINE - 1] != b'\n' || [16, 33, 50, 67].iter().any(|&i| bytes[i] != b' ')
    {
        return None;
    }
    let expiry = &bytes[34..50];
    Some(OrderLine {
        id: parse_hex(&bytes[..16])?,
        created_at: parse_hex(&bytes[17..33])? as i64,
        expiry: match expiry.iter().all(|b| *b == b'-') {
            true => None,
            false => Some(parse_hex(expiry)? as i64),
        },
        offset: parse_hex(&bytes[51..67])?,
        length: u32::try_from(parse_hex(&bytes[68..76])?).ok()?,
    })
}

/// Appends a key line.
pub(super) fn push_key(out: &mut Vec<u8>, key: u64, position: u32) {
    push_hex(out, key, 16);
    out.push(b' ');
    push_hex(out, u64::from(position), 8);
    out.push(b'\n');
}

/// Parses one key line (exactly [`KEY_LINE`] bytes): the key and position.
pub(super) fn parse_key(bytes: &[u8]) -> Option<(u64, u32)> {
    if bytes.len() != KEY_LINE || bytes[16] != b' ' || bytes[KEY_LINE - 1] != b'\n' {
        return None;
    }
    Some((parse_hex(&bytes[..16])?, u32::try_from(parse_hex(&bytes[17..25])?).ok()?))
}

fn push_hex(out: &mut Vec<u8>, value: u64, width: usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..width).rev() {
        out.push(DIGITS[((value >> (shift * 4)) & 0xf) as usize]);
    }
}

fn parse_hex(bytes: &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    for &b in bytes {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        value = value << 4 | u64::from(digit);
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_at_their_fixed_width() {
        for line in [
            OrderLine { id: 1, created_at: 1_704_067_200, expiry: None, offset: 0, length: 250 },
            OrderLine { id: u64::MAX, created_at: -5, expiry: Some(i64::MIN), offset: u64::MAX, length: u32::MAX },
            OrderLine { id: 7, created_at: 0, expiry: Some(-1), offset: 12, length: 0 },
        ] {
            let mut out = Vec::new();
            push_order(&mut out, &line);
            assert_eq!(out.len(), ORDER_LINE);
            assert_eq!(parse_order(&out), Some(line));
        }
        let mut out = Vec::new();
        push_key(&mut out, i64::MIN as u64, 42);
        assert_eq!(out.len(), KEY_LINE);
        assert_eq!(parse_key(&out), Some((i64::MIN as u64, 42)));
        out[3] = b'G';
        assert_eq!(parse_key(&out), None);
        assert_eq!(parse_order(b"short\n"), None);
    }
}
