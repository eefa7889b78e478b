//! Standard five-field cron expressions (minute hour day-of-month month
//! day-of-week, UTC), validated here and translated for the `cron` crate,
//! which wants a seconds field and numbers weekdays 1-7 from Sunday.
//!
//! Semantics follow Vixie cron: day-of-week 0-7 with 0 and 7 = Sunday, names
//! (`SUN`, `JAN`, any case), ranges, steps, lists, and the macros `@hourly`,
//! `@daily`, `@weekly`, `@monthly`, `@yearly`. When both day-of-month and
//! day-of-week are restricted (neither starts with `*`), a day matches when
//! EITHER matches; the crate ANDs them, so such expressions are evaluated as
//! two schedules and the earlier next run wins.

use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::{PluginError, Result};

/// One field's name, bounds and value names.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// The value of `names[0]`.
    names_from: u32,
}

const MINUTE: Field = Field { name: "minute", min: 0, max: 59, names: &[], names_from: 0 };
const HOUR: Field = Field { name: "hour", min: 0, max: 23, names: &[], names_from: 0 };
const DAY_OF_MONTH: Field = Field { name: "day-of-month", min: 1, max: 31, names: &[], names_from: 0 };
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
    names_from: 1,
};
const DAY_OF_WEEK: Field = Field {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    names_from: 0,
};

/// A parsed field: the set of values (bit n = value n) and whether the
/// field text started with `*` (which matters for day matching).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Values {
    bits: u64,
    star: bool,
}

/// A validated cron expression that can compute its next run.
#[derive(Debug, Clone)]
pub struct CronExpr {
    /// The schedule, or for OR'ed day fields the day-of-month half.
    primary: cron::Schedule,
    /// The day-of-week half when both day fields are restricted.
    by_weekday: Option<cron::Schedule>,
}

impl CronExpr {
    /// Parses and validates `text`; the error names the field and what is
    /// wrong with it.
    pub fn parse(text: &str) -> Result<CronExpr> {
        parse_fields(text).map_err(|why| PluginError::InvalidInput(format!("cron {text:?}: {why}")))
    }

    /// The first run strictly after `after` (seconds since the epoch), or
    /// `None` when there is none before the year 2100.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        let after = DateTime::<Utc>::from_timestamp(after, 0)?;
        let next = |schedule: &cron::Schedule| schedule.after(&after).next().map(|t| t.timestamp());
        match (next(&self.primary), self.by_weekday.as_ref().and_then(next)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn parse_fields(text: &str) -> Result<CronExpr, String> {
    let expanded = expand_macro(text.trim())?;
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    let [minute, hour, dom, month, dow] = fields[..] else {
        return Err(format!(
            "a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has {}",
            fields.len()
        ));
    };
    let minute = parse_field(minute, &MINUTE)?;
    let hour = parse_field(hour, &HOUR)?;
    let dom = parse_field(dom, &DAY_OF_MONTH)?;
    let month = parse_field(month, &MONTH)?;
    let mut dow = parse_field(dow, &DAY_OF_WEEK)?;
    // 7 is Sunday too.
    if dow.bits & (1 << 7) != 0 {
        dow.bits = (dow.bits & !(1 << 7)) | 1;
    }
    let base = format!("0 {} {} ", list(minute, 0, 59, 0), list(hour, 0, 23, 0));
    let month = list(month, 1, 12, 0);
    // The crate numbers weekdays 1 (Sunday) to 7 (Saturday).
    let weekdays = list(dow, 0, 6, 1);
    let days = list(dom, 1, 31, 0);
    let build = |dom: &str, dow: &str| {
        let translated = format!("{base}{dom} {month} {dow}");
        cron::Schedule::from_str(&translated)
            .map_err(|e| format!("it translates to {translated:?}, which the cron library refuses: {e}"))
    };
    if dom.star || dow.star {
        Ok(CronExpr { primary: build(&days, &weekdays)?, by_weekday: None })
    } else {
        Ok(CronExpr { primary: build(&days, "*")?, by_weekday: Some(build("*", &weekdays)?) })
    }
}

fn expand_macro(text: &str) -> Result<&str, String> {
    if !text.starts_with('@') {
        return Ok(text);
    }
    match text.to_ascii_lowercase().as_str() {
        "@hourly" => Ok("0 * * * *"),
        "@daily" | "@midnight" => Ok("0 0 * * *"),
        "@weekly" => Ok("0 0 * * 0"),
        "@monthly" => Ok("0 0 1 * *"),
        "@yearly" | "@annually" => Ok("0 0 1 1 *"),
        _ => Err(format!("{text} is not a known macro (use @hourly, @daily, @weekly, @monthly or @yearly)")),
    }
}

/// The values in `min..=max` as the crate's list (each plus `offset`), or
/// `*` when all are present.
fn list(values: Values, min: u32, max: u32, offset: u32) -> String {
    let present: Vec<u32> = (min..=max).filter(|v| values.bits & (1 << v) != 0).collect();
    if present.len() == (max - min + 1) as usize {
        return "*".to_string();
    }
    let parts: Vec<String> = present.iter().map(|v| (v + offset).to_string()).collect();
    parts.join(",")
}

fn parse_field(text: &str, field: &Field) -> Result<Values, String> {
    let mut bits = 0u64;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("the {} field {text:?} has an empty list item", field.name));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(parse_step(step, field)?)),
            None => (item, None),
        };
        let (start, end) = if range == "*" {
            (field.min, field.max)
        } else if let Some((a, b)) = range.split_once('-') {
            let start = parse_value(a, field)?;
            let mut end = parse_value(b, field)?;
            // A weekday range may end on Sunday written as 0 or SUN (FRI-SUN).
            if field.name == DAY_OF_WEEK.name && end == 0 && start > 0 {
                end = 7;
            }
            if start > end {
                return Err(format!("the {} range {range} runs backwards", field.name));
            }
            (start, end)
        } else {
            let start = parse_value(range, field)?;
            // `5/15` means from 5 to the end in steps of 15.
            (start, if step.is_some() { field.max } else { start })
        };
        for value in (start..=end).step_by(step.unwrap_or(1) as usize) {
            bits |= 1 << value;
        }
    }
    Ok(Values { bits, star: text.starts_with('*') })
}

fn parse_value(text: &str, field: &Field) -> Result<u32, String> {
    if let Ok(value) = text.parse::<u32>() {
        if (field.min..=field.max).contains(&value) {
            return Ok(value);
        }
        return Err(format!("{} value {value} is out of range {}-{}", field.name, field.min, field.max));
    }
    if let Some(index) = field.names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(field.names_from + index as u32);
    }
    if field.names.is_empty() {
        Err(format!("{} value {text:?} is not a number", field.name))
    } else {
        Err(format!("{} value {text:?} is neither a number nor a name ({})", field.name, field.names.join(", ")))
    }
}

fn parse_step(text: &str, field: &Field) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(step) if (1..=field.max.max(1)).contains(&step) => Ok(step),
        _ => Err(format!("{} step {text:?} must be a whole number from 1 to {}", field.name, field.max.max(1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike, Weekday};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().timestamp()
    }

    fn next(expr: &str, after: i64) -> DateTime<Utc> {
        let ts = CronExpr::parse(expr).unwrap().next_after(after).unwrap();
        DateTime::from_timestamp(ts, 0).unwrap()
    }

    /// The next `n` runs after `start`.
    fn runs(expr: &str, start: i64, n: usize) -> Vec<DateTime<Utc>> {
        let cron = CronExpr::parse(expr).unwrap();
        let mut out = Vec::new();
        let mut t = start;
        for _ in 0..n {
            t = cron.next_after(t).unwrap();
            out.push(DateTime::from_timestamp(t, 0).unwrap());
        }
        out
    }

    // 2024-01-03 is a Wednesday.
    const WED: (i32, u32, u32) = (2024, 1, 3);

    #[test]
    fn sunday_as_zero_and_seven_and_name() {
        for expr in ["0 0 * * 0", "0 0 * * 7", "0 0 * * sun", "@weekly"] {
            for run in runs(expr, at(WED.0, WED.1, WED.2, 12, 0), 3) {
                assert_eq!(run.weekday(), Weekday::Sun, "{expr}: {run}");
                assert_eq!((run.hour(), run.minute(), run.second()), (0, 0, 0), "{expr}");
            }
            assert_eq!(next(expr, at(2024, 1, 3, 12, 0)), Utc.with_ymd_and_hms(2024, 1, 7, 0, 0, 0).unwrap());
        }
    }

    #[test]
    fn daily_at_one_thirty() {
        let start = at(2024, 1, 3, 1, 30);
        assert_eq!(
            runs("30 1 * * *", start, 2),
            [Utc.with_ymd_and_hms(2024, 1, 4, 1, 30, 0).unwrap(), Utc.with_ymd_and_hms(2024, 1, 5, 1, 30, 0).unwrap()],
            "the next run is strictly after the given time"
        );
    }

    #[test]
    fn every_fifteen_minutes() {
        let got: Vec<u32> = runs("*/15 * * * *", at(2024, 1, 3, 10, 7), 5).iter().map(|t| t.minute()).collect();
        assert_eq!(got, [15, 30, 45, 0, 15]);
    }

    #[test]
    fn weekdays_at_nine() {
        let got = runs("0 9 * * 1-5", at(2024, 1, 5, 10, 0), 3); // Friday after 9
        let days: Vec<Weekday> = got.iter().map(|t| t.weekday()).collect();
        assert_eq!(days, [Weekday::Mon, Weekday::Tue, Weekday::Wed]);
        assert!(got.iter().all(|t| t.hour() == 9 && t.minute() == 0));
    }

    #[test]
    fn first_of_month() {
        assert_eq!(
            runs("0 0 1 * *", at(2024, 1, 15, 0, 0), 2),
            [Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap(), Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap()]
        );
    }

    #[test]
    fn named_weekday_list() {
        let days: Vec<Weekday> =
            runs("0 12 * * MON,WED,FRI", at(2024, 1, 3, 12, 0), 4).iter().map(|t| t.weekday()).collect();
        assert_eq!(days, [Weekday::Fri, Weekday::Mon, Weekday::Wed, Weekday::Fri]);
    }

    #[test]
    fn sundays_in_january() {
        let got = runs("0 0 * JAN SUN", at(2024, 1, 25, 0, 0), 3);
        assert_eq!(
            got,
            [
                Utc.with_ymd_and_hms(2024, 1, 28, 0, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2025, 1, 5, 0, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2025, 1, 12, 0, 0, 0).unwrap()
            ]
        );
    }

    #[test]
    fn ranges_ending_on_sunday_and_steps() {
        let days: Vec<Weekday> = runs("0 0 * * FRI-SUN", at(2024, 1, 3, 0, 0), 4).iter().map(|t| t.weekday()).collect();
        assert_eq!(days, [Weekday::Fri, Weekday::Sat, Weekday::Sun, Weekday::Fri]);
        let days: Vec<Weekday> = runs("0 0 * * 5-7", at(2024, 1, 3, 0, 0), 3).iter().map(|t| t.weekday()).collect();
        assert_eq!(days, [Weekday::Fri, Weekday::Sat, Weekday::Sun]);
        let days: Vec<Weekday> = runs("0 0 * * 1-5/2", at(2024, 1, 3, 0, 0), 3).iter().map(|t| t.weekday()).collect();
        assert_eq!(days, [Weekday::Fri, Weekday::Mon, Weekday::Wed]);
        let hours: Vec<u32> = runs("0 8-12/2,20 * * *", at(2024, 1, 3, 0, 0), 4).iter().map(|t| t.hour()).collect();
        assert_eq!(hours, [8, 10, 12, 20]);
        let minutes: Vec<u32> = runs("5/20 * * * *", at(2024, 1, 3, 0, 0), 3).iter().map(|t| t.minute()).collect();
        assert_eq!(minutes, [5, 25, 45]);
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        // The 13th, or any Friday: from Wed 2024-01-03, Fri 5th, Fri 12th, Sat 13th.
        let got = runs("0 0 13 * 5", at(2024, 1, 3, 0, 0), 3);
        let dates: Vec<u32> = got.iter().map(|t| t.day()).collect();
        assert_eq!(dates, [5, 12, 13]);
        // With a star-prefixed field both must match (Vixie): Fridays that are odd days.
        let dates: Vec<u32> = runs("0 0 */2 * 5", at(2024, 1, 3, 0, 0), 2).iter().map(|t| t.day()).collect();
        assert_eq!(dates, [5, 19]);
    }

    #[test]
    fn macros() {
        assert_eq!(next("@daily", at(2024, 1, 3, 5, 0)), Utc.with_ymd_and_hms(2024, 1, 4, 0, 0, 0).unwrap());
        assert_eq!(next("@hourly", at(2024, 1, 3, 5, 10)), Utc.with_ymd_and_hms(2024, 1, 3, 6, 0, 0).unwrap());
        assert_eq!(next("@monthly", at(2024, 1, 3, 5, 0)), Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap());
        assert_eq!(next("@YEARLY", at(2024, 1, 3, 5, 0)), Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap());
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        for (expr, why) in [
            ("0 0 * *", "has 4"),
            ("0 0 * * * *", "has 6"),
            ("", "has 0"),
            ("60 * * * *", "minute value 60 is out of range 0-59"),
            ("* 24 * * *", "hour value 24 is out of range 0-23"),
            ("* * 0 * *", "day-of-month value 0 is out of range 1-31"),
            ("* * * 13 *", "month value 13 is out of range 1-12"),
            ("* * * * 9", "day-of-week value 9 is out of range 0-7"),
            ("* * * FOO *", "month value \"FOO\" is neither"),
            ("* * * * MONDAY", "day-of-week value \"MONDAY\""),
            ("*/0 * * * *", "minute step \"0\""),
            ("5-1 * * * *", "minute range 5-1 runs backwards"),
            ("1,,2 * * * *", "empty list item"),
            ("x * * * *", "minute value \"x\" is not a number"),
            ("@reboot", "not a known macro"),
        ] {
            let err = CronExpr::parse(expr).unwrap_err().to_string();
            assert!(err.contains(why), "{expr:?}: {err}");
        }
    }

    #[test]
    fn impossible_dates_never_run() {
        assert_eq!(CronExpr::parse("0 0 30 2 *").unwrap().next_after(at(2024, 1, 1, 0, 0)), None);
    }
}
