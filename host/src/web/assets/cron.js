// Standard five-field cron (minute hour day-of-month month day-of-week), evaluated in UTC
// like the server does. Used by the schedule form for its plain-words preview and the next
// run times; the server's `next_run` after saving stays authoritative.
//
// Syntax: `*`, numbers, names (JAN-DEC, SUN-SAT, any case), ranges `a-b`, steps `*/n`,
// `a-b/n` and `a/n` (from a to the field's maximum), lists `a,b-c`. Day-of-week 0 and 7 are
// both Sunday. When day-of-month and day-of-week are both restricted (neither starts with
// `*`), a day matches when EITHER matches, as in Vixie cron.

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_WORDS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];
const DAY_WORDS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** The five fields in order: their names in messages, ranges and the names they accept. */
export const FIELDS = [
  { key: 'minute', label: 'minute', min: 0, max: 59 },
  { key: 'hour', label: 'hour', min: 0, max: 23 },
  { key: 'dom', label: 'day-of-month', min: 1, max: 31 },
  { key: 'month', label: 'month', min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 },
  { key: 'dow', label: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, nameBase: 0 },
];

/** A cron expression that cannot be parsed; the message names the field and the problem. */
export class CronError extends Error {
  constructor(message) {
    super(message);
    this.name = 'CronError';
  }
}

function parseValue(text, field) {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < field.min || value > field.max) {
      throw new CronError(`${field.label} value ${value} is out of range ${field.min}-${field.max}`);
    }
    return value;
  }
  const index = field.names ? field.names.indexOf(text.toUpperCase()) : -1;
  if (index < 0) {
    const hint = field.names ? ` (use ${field.min}-${field.max} or a name such as ${field.names[0]})` : '';
    throw new CronError(`${field.label} "${text}" is not a number${hint}`);
  }
  return index + field.nameBase;
}

function parseStep(text, field) {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new CronError(`${field.label} step "${text}" must be a whole number of at least 1`);
  }
  return Number(text);
}

/** Parses one comma-separated field into its sorted list of values. */
function parseField(text, field) {
  if (text === '') throw new CronError(`${field.label} is empty`);
  const values = new Set();
  for (const part of text.split(',')) {
    if (part === '') throw new CronError(`${field.label} has an empty item in its list "${text}"`);
    const [rangeText, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new CronError(`${field.label} item "${part}" has more than one "/"`);
    const step = stepText === undefined ? 1 : parseStep(stepText, field);
    let low;
    let high;
    if (rangeText === '*') {
      [low, high] = [field.min, field.max];
    } else if (rangeText.includes('-')) {
      const [lowText, highText, more] = rangeText.split('-');
      if (more !== undefined || lowText === '' || highText === '') {
        throw new CronError(`${field.label} range "${rangeText}" must look like 1-5`);
      }
      [low, high] = [parseValue(lowText, field), parseValue(highText, field)];
      // Day-of-week ranges may end on Sunday as 0 or SUN (FRI-SUN): that Sunday is 7.
      if (field.key === 'dow' && high === 0 && low > 0) high = 7;
      if (low > high) {
        throw new CronError(`${field.label} range "${rangeText}" starts after it ends`);
      }
    } else {
      low = parseValue(rangeText, field);
      high = stepText === undefined ? low : field.max;
    }
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return values;
}

/**
 * Parses a five-field expression. Returns the sets of allowed values per field (day-of-week
 * as 0-6 with Sunday 0) and whether the two day fields are restricted. Throws CronError.
 */
export function parseCron(expression) {
  const parts = String(expression).trim().split(/\s+/);
  if (parts.length !== 5 || parts[0] === '') {
    throw new CronError(`a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has ${parts[0] === '' ? 0 : parts.length}`);
  }
  const parsed = { text: parts };
  FIELDS.forEach((field, i) => { parsed[field.key] = parseField(parts[i], field); });
  if (parsed.dow.has(7)) {
    parsed.dow.delete(7);
    parsed.dow.add(0);
  }
  parsed.domRestricted = !parts[2].startsWith('*');
  parsed.dowRestricted = !parts[4].startsWith('*');
  return parsed;
}

function dayMatches(parsed, date) {
  const dom = parsed.dom.has(date.getUTCDate());
  const dow = parsed.dow.has(date.getUTCDay());
  if (parsed.domRestricted && parsed.dowRestricted) return dom || dow;
  return dom && dow;
}

/**
 * The next `count` run times strictly after `after` (a Date), as Dates. Stops early when the
 * expression never matches within eight years (for example `0 0 30 2 *`).
 */
export function nextRuns(expression, after, count) {
  const parsed = typeof expression === 'string' ? parseCron(expression) : expression;
  const runs = [];
  const t = new Date(Math.floor(after.getTime() / 60000) * 60000 + 60000);
  const limit = after.getTime() + 8 * 366 * 24 * 3600 * 1000;
  while (runs.length < count && t.getTime() <= limit) {
    if (!parsed.month.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(parsed, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!parsed.hour.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    } else if (!parsed.minute.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    } else {
      runs.push(new Date(t.getTime()));
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    }
  }
  return runs;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

function joinWords(words) {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** Describes one field's text in words, item by item (e.g. "Monday through Friday"). */
function fieldWords(text, field, word) {
  const items = text.split(',').map((part) => {
    const [rangeText, step] = part.split('/');
    let range;
    if (rangeText === '*') range = '';
    else if (rangeText.includes('-')) {
      const [a, b] = rangeText.split('-').map((v) => word(parseValue(v, field)));
      range = `${a} through ${b}`;
    } else range = word(parseValue(rangeText, field));
    if (step === undefined) return range;
    const from = rangeText === '*' ? '' : rangeText.includes('-') ? ` from ${range}` : ` from ${range} on`;
    return `every ${step}${ordinalSuffix(Number(step))} ${field.unit}${from}`;
  });
  return joinWords(items);
}

function ordinalSuffix(n) {
  if (n % 100 >= 11 && n % 100 <= 13) return 'th';
  return { 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th';
}

/** "hour 9 through 17" or "every 2nd hour": a prefix for plain values, none for steps from `*`. */
function unitWords(text, field, unit, word) {
  const words = fieldWords(text, { ...field, unit }, word);
  return text.startsWith('*') ? words : `${unit} ${words}`;
}

function timeWords(parsed) {
  const [minuteText, hourText] = parsed.text;
  const minutes = [...parsed.minute];
  const hours = [...parsed.hour];
  if (minuteText === '*' && hourText === '*') return 'Every minute';
  const minuteStep = /^\*\/(\d+)$/.exec(minuteText);
  if (minuteStep && hourText === '*') return `Every ${minuteStep[1]} minutes`;
  if (minutes.length * hours.length <= 6) {
    const times = hours.flatMap((h) => minutes.map((m) => `${pad(h)}:${pad(m)}`));
    return `At ${joinWords(times)}`;
  }
  const hourPart = hourText === '*' ? 'every hour' : unitWords(hourText, FIELDS[1], 'hour', String);
  if (minuteText === '*') return `Every minute during ${hourPart}`;
  if (minuteStep) return `Every ${minuteStep[1]} minutes during ${hourPart}`;
  const minuteUnit = minutes.length === 1 ? 'minute' : 'minutes';
  return `At ${unitWords(minuteText, FIELDS[0], minuteUnit, String)} past ${hourPart}`;
}

function dayWords(parsed) {
  const [, , domText, , dowText] = parsed.text;
  const parts = [];
  if (domText !== '*') {
    parts.push(`on ${unitWords(domText, FIELDS[2], 'day', String)} of the month`);
  }
  if (dowText !== '*') {
    parts.push(`on ${fieldWords(dowText, { ...FIELDS[4], unit: 'day of the week' }, (d) => DAY_WORDS[d % 7])}`);
  }
  if (parts.length === 0) return 'every day';
  return parts.join(parsed.domRestricted && parsed.dowRestricted ? ' or ' : ' and ');
}

/**
 * Says in plain words when the expression runs, e.g. "At 01:30 every day (UTC)".
 * Throws CronError for an invalid expression.
 */
export function describeCron(expression) {
  const parsed = parseCron(expression);
  const monthText = parsed.text[3];
  const month = monthText === '*' ? ''
    : ` in ${fieldWords(monthText, { ...FIELDS[3], unit: 'month' }, (m) => MONTH_WORDS[m - 1])}`;
  const time = timeWords(parsed);
  const days = dayWords(parsed);
  // "every day" reads well only after fixed times ("At 01:30 every day").
  const dayPart = days === 'every day' && !/^At \d\d:\d\d/.test(time) ? '' : ` ${days}`;
  return `${time}${dayPart}${month} (UTC)`;
}
