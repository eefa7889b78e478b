//! The host's rules for every answer a plugin gives, whatever its contract
//! version: the answer in the host's model is checked and bounded here
//! before anything else sees it.
//!
//! - every backup record names its archive `backup-YYYYMMDD_HHMM_ID.tar.gz`
//!   with its own id, and a call about one id answers that id;
//! - a page holds at most `limit` records and its total is at least their
//!   count; other lists are bounded;
//! - every string is cut to [`MAX_TEXT`] bytes, saying how much was cut;
//! - a job has 1 to [`MAX_PARTS`] parts, and its state and each part's
//!   outcome, which the host keeps and hands back, at most
//!   [`MAX_HANDED_BACK`] bytes.
//!
//! A broken rule is a [`CallError::Violation`] naming the rule, never a
//! panic; the next call runs as usual.

use super::budget::cut;
use super::error::CallError;
use super::operations::Job;
use crate::model::{
    Backup, BackupPage, RestoreReport, Schedule, SchedulePage, TickFailure, TickReport, VerifyReport, is_archive_name,
};

/// Longest string kept from a plugin's answer, in bytes.
pub(crate) const MAX_TEXT: usize = 4096;
/// Most problems kept from a verify report.
pub(crate) const MAX_PROBLEMS: usize = 1000;
/// Most backups or failures a tick may report.
pub(crate) const MAX_TICK_ITEMS: usize = 10_000;

/// What the host asked, to hold the answer against.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Asked {
    /// The id the call was about.
    pub id: Option<u64>,
    /// The page size asked for.
    pub limit: Option<u32>,
}

impl Asked {
    /// A call about one id.
    pub(crate) fn id(id: u64) -> Asked {
        Asked { id: Some(id), limit: None }
    }

    /// A call for a page of `limit`.
    pub(crate) fn page(limit: u32) -> Asked {
        Asked { id: None, limit: Some(limit) }
    }
}

/// An answer the host checks and bounds.
pub(crate) trait Distrusted: Sized {
    /// The answer within the host's rules, or the rule it breaks.
    fn distrust(self, asked: &Asked) -> Result<Self, String>;
}

/// `text` cut to [`MAX_TEXT`] bytes on a character boundary, with a note of
/// how much was cut.
pub(crate) fn bounded(mut text: String) -> String {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let whole = text.len();
    let kept = cut(&text, MAX_TEXT).len();
    text.truncate(kept);
    text.push_str(&format!(" … ({} more bytes cut by the host)", whole - kept));
    text
}

/// A plugin's error with its message bounded.
pub(crate) fn bounded_error(err: CallError) -> CallError {
    match err {
        CallError::NotFound(m) => CallError::NotFound(bounded(m)),
        CallError::InvalidInput(m) => CallError::InvalidInput(bounded(m)),
        CallError::CorruptArchive(m) => CallError::CorruptArchive(bounded(m)),
        CallError::Busy(m) => CallError::Busy(bounded(m)),
        CallError::Storage(m) => CallError::Storage(bounded(m)),
        CallError::Trapped { operation, message } => CallError::Trapped { operation, message: bounded(message) },
        other => other,
    }
}

fn same_id(kind: &str, asked: &Asked, answered: u64) -> Result<(), String> {
    match asked.id {
        Some(id) if id != answered => Err(format!("asked about {kind} {id}, it answered about {kind} {answered}")),
        _ => Ok(()),
    }
}

fn at_most<T>(what: &str, items: &[T], most: usize) -> Result<(), String> {
    if items.len() > most {
        return Err(format!("it answered {} {what}, more than the {most} allowed", items.len()));
    }
    Ok(())
}

impl Distrusted for Backup {
    fn distrust(mut self, asked: &Asked) -> Result<Self, String> {
        same_id("backup", asked, self.id)?;
        if !is_archive_name(&self.name, self.id) {
            let name = bounded(self.name);
            return Err(format!(
                "backup {} names its archive {name:?}; it must be backup-YYYYMMDD_HHMM_{}.tar.gz",
                self.id, self.id
            ));
        }
        self.description = bounded(self.description);
        self.sha256 = bounded(self.sha256);
        Ok(self)
    }
}

/// The `items` of a page held to the asked limit and to its `total` (what
/// `says` puts in words), each item checked.
fn checked_page<T: Distrusted>(
    items: Vec<T>,
    total: u64,
    asked: &Asked,
    what: &str,
    says: impl Fn(u64) -> String,
) -> Result<Vec<T>, String> {
    if let Some(limit) = asked.limit {
        at_most(&format!("{what} on a page"), &items, limit as usize)?;
    }
    if total < items.len() as u64 {
        return Err(format!("its page has {} {what} but {}", items.len(), says(total)));
    }
    let anyone = Asked::default();
    items.into_iter().map(|item| item.distrust(&anyone)).collect()
}

impl Distrusted for BackupPage {
    fn distrust(self, asked: &Asked) -> Result<Self, String> {
        let says = |total| format!("says {total} match in all");
        let backups = checked_page(self.backups, self.amount, asked, "backups", says)?;
        Ok(BackupPage { backups, amount: self.amount })
    }
}

impl Distrusted for Schedule {
    fn distrust(mut self, asked: &Asked) -> Result<Self, String> {
        same_id("schedule", asked, self.id)?;
        self.name = bounded(self.name);
        self.cron = bounded(self.cron);
        self.last_error = self.last_error.map(bounded);
        Ok(self)
    }
}

impl Distrusted for SchedulePage {
    fn distrust(self, asked: &Asked) -> Result<Self, String> {
        let says = |total| format!("says there are {total}");
        let schedules = checked_page(self.schedules, self.amount, asked, "schedules", says)?;
        Ok(SchedulePage { schedules, amount: self.amount })
    }
}

impl Distrusted for RestoreReport {
    fn distrust(self, asked: &Asked) -> Result<Self, String> {
        same_id("backup", asked, self.id)?;
        Ok(self)
    }
}

impl Distrusted for VerifyReport {
    fn distrust(mut self, asked: &Asked) -> Result<Self, String> {
        same_id("backup", asked, self.id)?;
        let more = self.problems.len().saturating_sub(MAX_PROBLEMS);
        self.problems.truncate(MAX_PROBLEMS);
        self.problems = self.problems.into_iter().map(bounded).collect();
        if more > 0 {
            self.problems.push(format!("… and {more} more problems (cut by the host)"));
        }
        if !self.problems.is_empty() {
            self.ok = false;
        }
        Ok(self)
    }
}

impl Distrusted for TickReport {
    fn distrust(self, _asked: &Asked) -> Result<Self, String> {
        at_most("created backups in a tick", &self.created, MAX_TICK_ITEMS)?;
        at_most("expired backups in a tick", &self.expired, MAX_TICK_ITEMS)?;
        at_most("failed schedules in a tick", &self.failed, MAX_TICK_ITEMS)?;
        let anyone = Asked::default();
        Ok(TickReport {
            created: self.created.into_iter().map(|b| b.distrust(&anyone)).collect::<Result<_, _>>()?,
            expired: self.expired,
            failed: self
                .failed
                .into_iter()
                .map(|f| TickFailure { schedule_id: f.schedule_id, message: bounded(f.message) })
                .collect(),
        })
    }
}

impl Distrusted for () {
    fn distrust(self, _asked: &Asked) -> Result<Self, String> {
        Ok(())
    }
}

/// Most parts a job may have.
pub(crate) const MAX_PARTS: u32 = 256;
/// Largest state of a job, or outcome of a part, the host hands back.
pub(crate) const MAX_HANDED_BACK: usize = 16 << 20;

impl Distrusted for Job {
    fn distrust(self, asked: &Asked) -> Result<Self, String> {
        same_id("backup", asked, self.id)?;
        if self.parts == 0 || self.parts > MAX_PARTS {
            return Err(format!("it planned a job of {} parts; a job has 1 to {MAX_PARTS}", self.parts));
        }
        at_most("bytes of job state", &self.state, MAX_HANDED_BACK)?;
        Ok(self)
    }
}

impl Distrusted for Vec<u8> {
    fn distrust(self, _asked: &Asked) -> Result<Self, String> {
        at_most("bytes of a part's outcome", &self, MAX_HANDED_BACK)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn backup(id: u64, name: &str) -> Backup {
        Backup {
            id,
            name: name.into(),
            created_at: Utc::now(),
            description: String::new(),
            expiry: None,
            size: 0,
            sha256: String::new(),
            schedule_id: None,
        }
    }

    #[test]
    fn names_must_be_archive_names_with_their_own_id() {
        let asked = Asked::default();
        assert!(backup(7, "backup-20300101_0000_7.tar.gz").distrust(&asked).is_ok());
        let err = backup(7, "../../../etc/passwd").distrust(&asked).unwrap_err();
        assert!(err.contains("backup-YYYYMMDD_HHMM_7.tar.gz"), "{err}");
        assert!(backup(7, "backup-20300101_0000_8.tar.gz").distrust(&asked).is_err());
        let err = backup(7, "backup-20300101_0000_7.tar.gz").distrust(&Asked { id: Some(6), limit: None }).unwrap_err();
        assert!(err.contains("asked about backup 6"), "{err}");
    }

    #[test]
    fn pages_are_held_to_their_limit_and_total() {
        let page = |n: u64, amount| BackupPage {
            backups: (1..=n).map(|id| backup(id, &format!("backup-20300101_0000_{id}.tar.gz"))).collect(),
            amount,
        };
        let ten = Asked { id: None, limit: Some(10) };
        assert!(page(10, 10).distrust(&ten).is_ok());
        assert!(page(11, u64::MAX).distrust(&ten).unwrap_err().contains("more than the 10 allowed"));
        assert!(page(3, 2).distrust(&ten).unwrap_err().contains("says 2 match"));
    }

    #[test]
    fn jobs_are_held_to_their_id_parts_and_sizes() {
        let job = |id, parts, state: usize| Job { id, parts, state: vec![0; state] };
        let asked = Asked::id(3);
        assert!(job(3, 2, 10).distrust(&asked).is_ok());
        assert!(job(4, 2, 10).distrust(&asked).unwrap_err().contains("asked about backup 3"));
        assert!(job(3, 0, 10).distrust(&asked).unwrap_err().contains("1 to 256"));
        assert!(job(3, MAX_PARTS + 1, 10).distrust(&asked).is_err());
        assert!(job(3, 1, MAX_HANDED_BACK + 1).distrust(&asked).unwrap_err().contains("bytes of job state"));
        assert!(vec![0u8; MAX_HANDED_BACK + 1].distrust(&Asked::default()).is_err());
    }

    #[test]
    fn strings_are_cut_with_a_note_and_problems_bounded() {
        let long = "é".repeat(MAX_TEXT);
        let cut = bounded(long.clone());
        assert!(cut.len() < long.len() && cut.ends_with("more bytes cut by the host)"), "{}", &cut[cut.len() - 60..]);
        assert_eq!(bounded("short".into()), "short");
        let report = VerifyReport {
            id: 1,
            ok: true,
            files_checked: 0,
            bytes_checked: 0,
            problems: vec!["x".repeat(10); MAX_PROBLEMS + 5],
        };
        let report = report.distrust(&Asked { id: Some(1), limit: None }).unwrap();
        assert!(!report.ok);
        assert_eq!(report.problems.len(), MAX_PROBLEMS + 1);
        assert!(report.problems.last().unwrap().contains("5 more problems"));
    }
}
