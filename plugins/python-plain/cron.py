"""Five-field cron expressions in UTC: parsing with messages that name the
field at fault, and the first run strictly after a time."""

from datetime import datetime, timedelta, timezone

FIELDS = [
    # name, low, high, names
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day-of-month", 1, 31, None),
    ("month", 1, 12, ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]),
    ("day-of-week", 0, 7, ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]),
]

MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}

# How far ahead a next run is looked for: 28 years cover every calendar.
HORIZON_DAYS = 366 * 28


class CronError(ValueError):
    """A cron expression that cannot be used; the message names the field."""


class Cron:
    """A parsed expression: the allowed values of each field."""

    def __init__(self, text):
        self.text = text
        expanded = MACROS.get(text.strip().lower(), text)
        parts = expanded.split()
        if len(parts) != 5:
            raise CronError(
                f"cron {text!r}: a cron expression has 5 fields (minute hour day-of-month month day-of-week), "
                f"this one has {len(parts)}"
            )
        sets = [parse_field(text, part, *field) for part, field in zip(parts, FIELDS)]
        self.minutes, self.hours, self.days, self.months, weekdays = sets
        self.weekdays = {0 if d == 7 else d for d in weekdays}
        self.days_star = parts[2].startswith("*")
        self.weekdays_star = parts[4].startswith("*")
        if self.next_after(datetime(1970, 1, 1, tzinfo=timezone.utc)) is None:
            raise CronError(f"cron {text!r} never matches a date")

    def day_matches(self, day):
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        if self.days_star or self.weekdays_star:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, after):
        """The first matching minute strictly after `after`, or None."""
        t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = after + timedelta(days=HORIZON_DAYS)
        while t <= end:
            if t.month not in self.months or not self.day_matches(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            return t
        return None


def parse_value(text, token, name, low, high, names):
    upper = token.upper()
    if names and upper in names:
        return names.index(upper) + (1 if name == "month" else 0)
    if not token.isdigit():
        raise CronError(f"cron {text!r}: {name} value {token!r} is not a number")
    value = int(token)
    if value < low or value > high:
        raise CronError(f"cron {text!r}: {name} value {value} is out of range {low}-{high}")
    return value


def parse_field(text, part, name, low, high, names):
    values = set()
    for item in part.split(","):
        step = 1
        stepped = "/" in item
        if stepped:
            item, step_text = item.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError(f"cron {text!r}: {name} step {step_text!r} must be a number of at least 1")
            step = int(step_text)
        if item == "*":
            start, stop = low, high
        elif "-" in item:
            a, b = item.split("-", 1)
            start = parse_value(text, a, name, low, high, names)
            stop = parse_value(text, b, name, low, high, names)
            if name == "day-of-week" and stop == 0:
                stop = 7
            if stop < start:
                raise CronError(f"cron {text!r}: the {name} range {item} runs backwards")
        else:
            start = parse_value(text, item, name, low, high, names)
            stop = high if stepped else start
        values.update(range(start, stop + 1, step))
    return values
