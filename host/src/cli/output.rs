//! How results are printed: aligned tables and one-line confirmations for
//! people, or with `--json` the JSON objects of the HTTP API (`message` plus
//! the payload keys, e.g. `backup`, `backups` and `amount`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use kinesis_backup_core::model::{Backup, ListedBackup, OffsiteState, Schedule};

/// Where a command's result goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    /// `--json` was given.
    pub json: bool,
}

impl Output {
    /// Prints `message` and `payload` as one JSON object with `--json`, else
    /// the human text (`human` gets the message).
    pub(crate) fn emit(&self, message: &str, payload: &[(&str, Value)], human: impl FnOnce(&str) -> String) {
        if self.json {
            let mut object = Map::new();
            object.insert("message".to_string(), Value::from(message));
            for (key, value) in payload {
                object.insert((*key).to_string(), value.clone());
            }
            println!("{}", Value::Object(object));
        } else {
            let text = human(message);
            println!("{}", text.trim_end());
        }
    }
}

/// A value as JSON (the model types always serialize).
pub(crate) fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `2024-05-06 07:08 UTC`.
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An optional time, `none` when absent.
pub(crate) fn opt_time(t: Option<DateTime<Utc>>, none: &str) -> String {
    t.map(time).unwrap_or_else(|| none.to_string())
}

/// `1.5 MiB` style sizes, as the core words them in its messages.
pub(crate) use kinesis_backup_core::ops::size_in_words as size;

/// Rows under a header, each column as wide as its widest cell.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> =
            cells.zip(&widths).map(|(cell, width)| format!("{cell:<width$}", width = *width)).collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = line(&mut header.iter().copied());
    for row in rows {
        out.push('\n');
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

/// The backups as a table.
pub(crate) fn backup_table(backups: &[Backup]) -> String {
    let rows: Vec<Vec<String>> = backups.iter().map(|b| backup_cells(b, None)).collect();
    table(&["ID", "NAME", "CREATED", "SIZE", "EXPIRES", "DESCRIPTION"], &rows)
}

/// The backups with where their copies are, as a table.
pub(crate) fn listed_table(backups: &[ListedBackup]) -> String {
    let rows: Vec<Vec<String>> =
        backups.iter().map(|listed| backup_cells(&listed.backup, Some(offsite(listed)))).collect();
    table(&["ID", "NAME", "CREATED", "SIZE", "EXPIRES", "OFFSITE", "DESCRIPTION"], &rows)
}

/// One table row of backup `b`, with its `offsite` cell before the
/// description when there is one.
fn backup_cells(b: &Backup, offsite: Option<String>) -> Vec<String> {
    let mut cells =
        vec![b.id.to_string(), b.name.clone(), time(b.created_at), size(b.size), opt_time(b.expiry, "never")];
    cells.extend(offsite);
    cells.push(b.description.clone());
    cells
}

/// Where a backup's copies are: `copied`, `pending`, `failed`, `-`, with
/// `(remote only)` when `backups/` lacks it.
pub(crate) fn offsite(listed: &ListedBackup) -> String {
    let state = match listed.offsite {
        OffsiteState::None => "-",
        OffsiteState::Pending => "pending",
        OffsiteState::Copied => "copied",
        OffsiteState::Failed => "failed",
    };
    if listed.local { state.to_owned() } else { format!("{state} (remote only)") }
}

/// One backup with its copies, field by field.
pub(crate) fn listed_details(listed: &ListedBackup) -> String {
    let mut rows = backup_rows(&listed.backup);
    let mut copies = offsite(listed);
    if let Some(reason) = &listed.offsite_reason {
        copies.push_str(&format!(" ({reason})"));
    }
    rows.push(vec!["offsite".to_string(), copies]);
    table(&["FIELD", "VALUE"], &rows)
}

/// The fields of one backup.
fn backup_rows(b: &Backup) -> Vec<Vec<String>> {
    vec![
        vec!["id".to_string(), b.id.to_string()],
        vec!["name".to_string(), b.name.clone()],
        vec!["created".to_string(), time(b.created_at)],
        vec!["size".to_string(), format!("{} ({} bytes)", size(b.size), b.size)],
        vec!["expires".to_string(), opt_time(b.expiry, "never")],
        vec!["description".to_string(), b.description.clone()],
        vec!["sha256".to_string(), b.sha256.clone()],
        vec!["schedule".to_string(), b.schedule_id.map(|id| id.to_string()).unwrap_or_else(|| "none (manual)".into())],
    ]
}

/// The schedules as a table.
pub(crate) fn schedule_table(schedules: &[Schedule]) -> String {
    let rows: Vec<Vec<String>> = schedules
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.name.clone(),
                s.cron.clone(),
                if s.enabled { "yes".into() } else { "no".into() },
                opt_time(s.next_run, "-"),
                s.expiry_hours.map(|h| format!("{h} h")).unwrap_or_else(|| "never".into()),
                opt_time(s.last_run, "never"),
                s.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(&["ID", "NAME", "CRON", "ENABLED", "NEXT RUN", "BACKUPS EXPIRE", "LAST RUN", "LAST ERROR"], &rows)
}

/// "Showing 1-20 of 45 backups." style footers.
pub(crate) fn page_footer(shown: usize, offset: u32, total: u64, noun: &str) -> String {
    if shown == 0 {
        return if total == 0 { format!("No {noun}.") } else { format!("No {noun} on this page ({total} in total).") };
    }
    let first = u64::from(offset) + 1;
    format!("Showing {first}-{} of {total} {noun}.", first + shown as u64 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_person_would_write_them() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn tables_align_their_columns() {
        let text = table(&["ID", "NAME"], &[vec!["1".into(), "short".into()], vec!["100".into(), "é".into()]]);
        assert_eq!(text, "ID   NAME\n1    short\n100  é");
    }

    #[test]
    fn footers_count_from_one() {
        assert_eq!(page_footer(2, 0, 2, "backups"), "Showing 1-2 of 2 backups.");
        assert_eq!(page_footer(5, 10, 40, "backups"), "Showing 11-15 of 40 backups.");
        assert_eq!(page_footer(0, 0, 0, "backups"), "No backups.");
    }
}
