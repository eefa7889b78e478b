//! Text helpers of the snapshot: JSON string tokens (the name section)
//! found and decoded without parsing a whole record, and the
//! case-insensitive containment test of search, allocation-free for ASCII
//! text.

use std::borrow::Cow;

/// Appends `value` to `out` as a JSON string token.
pub(super) fn push_json_string(out: &mut String, value: &str) {
    // Encoding a string into JSON cannot fail.
    out.push_str(&serde_json::to_string(value).unwrap_or_default());
}

/// Splits the JSON string token at the start of `text` from what follows
/// it; `None` when `text` does not start with a complete token.
pub(super) fn split_json_string(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'"') {
        return None;
    }
    let mut at = 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            // A quote is ASCII, so `at + 1` is a character boundary.
            b'"' => return Some((&text[..=at], &text[at + 1..])),
            _ => at += 1,
        }
    }
    None
}

/// The string a JSON string token stands for: borrowed when it has no
/// escapes. `None` when the token is not valid JSON.
pub(super) fn decode_json_string(token: &str) -> Option<Cow<'_, str>> {
    let inner = token.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(token).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// Whether `text.to_lowercase()` contains `needle` (given in lower case).
pub(super) fn lowercase_contains(text: &str, needle: &str) -> bool {
    if !text.is_ascii() {
        return text.to_lowercase().contains(needle);
    }
    // The lower case of ASCII text is its ASCII lower case, byte for byte.
    let (text, needle) = (text.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || text.windows(needle.len()).any(|window| window.iter().zip(needle).all(|(t, n)| t.to_ascii_lowercase() == *n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_with_and_without_escapes() {
        for value in ["plain", "", "quote \" and \\ slash", "line\nbreak", "ünïcödé ☃"] {
            let mut token = String::new();
            push_json_string(&mut token, value);
            let text = format!("{token} rest");
            let (found, rest) = split_json_string(&text).unwrap();
            assert_eq!(found, token);
            assert_eq!(rest, " rest");
            assert_eq!(decode_json_string(found).unwrap(), value);
        }
        assert_eq!(split_json_string("\"unterminated"), None);
        assert_eq!(split_json_string("no quote"), None);
    }

    #[test]
    fn lowercase_contains_agrees_with_to_lowercase() {
        for (text, needle) in
            [("Nightly BACKUP", "backup"), ("abc", "abcd"), ("Straße", "straße"), ("KELVIN", "kelvin"), ("x", "y")]
        {
            assert_eq!(lowercase_contains(text, needle), text.to_lowercase().contains(needle), "{text} {needle}");
        }
    }
}
