// The schedule form's cron evaluator (host/src/web/assets/cron.js), run in node: the
// next run times and plain words for the standard five-field syntax, and its error messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';

// cron.js is an ES module served to browsers from a folder without a
// package.json, which Node before 22 would read as CommonJS: it is imported
// from its text instead, the same on every Node version.
const source = await readFile(new URL('../../host/src/web/assets/cron.js', import.meta.url), 'utf8');
const cronModule = `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`;
const { CronError, describeCron, nextRuns, parseCron } = await import(cronModule);

// A Wednesday.
const NOW = new Date('2025-11-26T12:00:30Z');
const iso = (dates) => dates.map((d) => d.toISOString().replace(':00.000Z', 'Z'));

describe('cron next runs (UTC)', () => {
  const cases = [
    ['30 1 * * *', ['2025-11-27T01:30Z', '2025-11-28T01:30Z', '2025-11-29T01:30Z']],
    ['*/15 * * * *', ['2025-11-26T12:15Z', '2025-11-26T12:30Z', '2025-11-26T12:45Z']],
    ['0 0 * * 0', ['2025-11-30T00:00Z', '2025-12-07T00:00Z', '2025-12-14T00:00Z']],
    ['0 0 * * 7', ['2025-11-30T00:00Z', '2025-12-07T00:00Z', '2025-12-14T00:00Z']],
    ['0 0 * * sun', ['2025-11-30T00:00Z', '2025-12-07T00:00Z', '2025-12-14T00:00Z']],
    ['0 9 * * 1-5', ['2025-11-27T09:00Z', '2025-11-28T09:00Z', '2025-12-01T09:00Z']],
    ['0 0 1 * *', ['2025-12-01T00:00Z', '2026-01-01T00:00Z', '2026-02-01T00:00Z']],
    ['0 12 * * MON,WED,FRI', ['2025-11-28T12:00Z', '2025-12-01T12:00Z', '2025-12-03T12:00Z']],
    ['0 0 * JAN SUN', ['2026-01-04T00:00Z', '2026-01-11T00:00Z', '2026-01-18T00:00Z']],
    ['0 0 * * FRI-SUN', ['2025-11-28T00:00Z', '2025-11-29T00:00Z', '2025-11-30T00:00Z']],
    ['5-10/5 3 * * *', ['2025-11-27T03:05Z', '2025-11-27T03:10Z', '2025-11-28T03:05Z']],
    ['58/1 23 31 12 *', ['2025-12-31T23:58Z', '2025-12-31T23:59Z', '2026-12-31T23:58Z']],
    ['0 0 29 2 *', ['2028-02-29T00:00Z', '2032-02-29T00:00Z']],
    // Both day fields restricted: either matches (the 1st, or any Friday).
    ['0 0 1 * 5', ['2025-11-28T00:00Z', '2025-12-01T00:00Z', '2025-12-05T00:00Z']],
    // Day-of-month starts with `*`: both must match (odd days that are Mondays).
    ['0 0 */2 * MON', ['2025-12-01T00:00Z', '2025-12-15T00:00Z', '2025-12-29T00:00Z']],
  ];
  for (const [expression, expected] of cases) {
    it(`${expression} runs at ${expected.join(', ')}`, () => {
      assert.deepEqual(iso(nextRuns(expression, NOW, expected.length)), expected);
    });
  }

  it('starts strictly after the given time', () => {
    assert.deepEqual(iso(nextRuns('0 12 * * *', new Date('2025-11-26T12:00:00Z'), 1)), ['2025-11-27T12:00Z']);
  });

  it('gives up on dates that never exist', () => {
    assert.deepEqual(nextRuns('0 0 30 2 *', NOW, 3), []);
  });
});

describe('cron in plain words', () => {
  const cases = [
    ['30 1 * * *', 'At 01:30 every day (UTC)'],
    ['*/15 * * * *', 'Every 15 minutes (UTC)'],
    ['* * * * *', 'Every minute (UTC)'],
    ['0 9 * * 1-5', 'At 09:00 on Monday through Friday (UTC)'],
    ['0 0 * * 0', 'At 00:00 on Sunday (UTC)'],
    ['0 0 * * 7', 'At 00:00 on Sunday (UTC)'],
    ['0 0 1 * *', 'At 00:00 on day 1 of the month (UTC)'],
    ['0 12 * * MON,WED,FRI', 'At 12:00 on Monday, Wednesday and Friday (UTC)'],
    ['0 0 * JAN SUN', 'At 00:00 on Sunday in January (UTC)'],
    ['0 0,12 * * *', 'At 00:00 and 12:00 every day (UTC)'],
    ['5 * * * *', 'At minute 5 past every hour (UTC)'],
    ['0 */2 * * *', 'At minute 0 past every 2nd hour (UTC)'],
    ['*/10 9-17 * * 1-5', 'Every 10 minutes during hour 9 through 17 on Monday through Friday (UTC)'],
    ['0 0 1,15 * 5', 'At 00:00 on day 1 and 15 of the month or on Friday (UTC)'],
  ];
  for (const [expression, words] of cases) {
    it(`${expression} reads "${words}"`, () => {
      assert.equal(describeCron(expression), words);
    });
  }
});

describe('cron errors name the field and the problem', () => {
  const cases = [
    ['', /has 5 fields .* this one has 0/],
    ['1 2 3 4', /this one has 4/],
    ['1 2 3 4 5 6', /this one has 6/],
    ['60 * * * *', /^minute value 60 is out of range 0-59$/],
    ['* 24 * * *', /^hour value 24 is out of range 0-23$/],
    ['* * 0 * *', /^day-of-month value 0 is out of range 1-31$/],
    ['* * * 13 *', /^month value 13 is out of range 1-12$/],
    ['* * * * 8', /^day-of-week value 8 is out of range 0-7$/],
    ['* * * FOO *', /^month "FOO" is not a number/],
    ['5-1 * * * *', /^minute range "5-1" starts after it ends$/],
    ['*/0 * * * *', /^minute step "0" must be a whole number of at least 1$/],
    ['1,,2 * * * *', /^minute has an empty item/],
    ['1/2/3 * * * *', /more than one "\/"/],
    ['1- * * * *', /must look like 1-5/],
  ];
  for (const [expression, message] of cases) {
    it(`${JSON.stringify(expression)} is refused`, () => {
      assert.throws(() => parseCron(expression), (error) => error instanceof CronError && message.test(error.message));
    });
  }
});
