//! What a plugin may say during one call: its `log` import gets a budget of
//! lines and bytes (as its stdout and stderr have a byte cap), each line is
//! cut to a bounded length, and what goes past the budget is counted and
//! reported in one line when the call ends, never written.

/// Longest log line kept from the plugin; the rest of the line is cut.
pub(crate) const MAX_LOG_LINE: usize = 4096;
/// Most log lines written per call.
pub(crate) const MAX_LOG_LINES: u64 = 1000;
/// Most log bytes written per call.
pub(crate) const MAX_LOG_BYTES: u64 = 256 * 1024;

/// The log budget of one call.
#[derive(Debug, Default)]
pub(crate) struct LogBudget {
    lines: u64,
    bytes: u64,
    dropped_lines: u64,
    dropped_bytes: u64,
}

impl LogBudget {
    /// The part of `message` that may be written, or `None` when the
    /// budget is spent (the line is then counted as dropped).
    pub(crate) fn admit<'m>(&mut self, message: &'m str) -> Option<&'m str> {
        let line = cut(message, MAX_LOG_LINE);
        if self.lines >= MAX_LOG_LINES || self.bytes + line.len() as u64 > MAX_LOG_BYTES {
            self.dropped_lines += 1;
            self.dropped_bytes += message.len() as u64;
            return None;
        }
        self.lines += 1;
        self.bytes += line.len() as u64;
        Some(line)
    }

    /// What was dropped, in words, when anything was.
    pub(crate) fn dropped(&self) -> Option<String> {
        (self.dropped_lines > 0).then(|| {
            format!(
                "{} more log lines ({} bytes) were dropped: a call may log {MAX_LOG_LINES} lines or {MAX_LOG_BYTES} bytes",
                self.dropped_lines, self.dropped_bytes
            )
        })
    }
}

/// `text` cut to at most `max` bytes on a character boundary.
pub(crate) fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_and_the_budget_counts_what_it_drops() {
        let mut budget = LogBudget::default();
        let long = "é".repeat(MAX_LOG_LINE);
        let kept = budget.admit(&long).unwrap();
        assert!(kept.len() <= MAX_LOG_LINE && kept.chars().all(|c| c == 'é'));
        for _ in 0..MAX_LOG_LINES * 2 {
            budget.admit("x");
        }
        let dropped = budget.dropped().unwrap();
        assert!(dropped.starts_with(&format!("{} more log lines", MAX_LOG_LINES + 1)), "{dropped}");
        assert_eq!(LogBudget::default().dropped(), None);
    }

    #[test]
    fn bytes_are_budgeted_too() {
        let mut budget = LogBudget::default();
        let line = "y".repeat(MAX_LOG_LINE);
        let written = (0..1000).filter(|_| budget.admit(&line).is_some()).count() as u64;
        assert_eq!(written, MAX_LOG_BYTES / MAX_LOG_LINE as u64);
    }
}
