// The pages as a new user meets them, at 1280×800, 1024×768 and phone size: every row action
// visible beside a long unbroken description and an expiry, times in the viewer's zone with the
// zone named, bulk delete naming the backups (also those on another page), cron presets and a
// pasted expression, live progress of a backup started elsewhere, a scheduled backup arriving
// without a reload, Enter in the description box, returning to the page asked for after signing
// in, and one message (not a pile) while the server is down.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ROOT_PASSWORD, launchBrowser, screenshot, signIn, startServer,
} from './harness.mjs';

const LONG = `Before-the-${'x'.repeat(180)}-import (one word, no spaces at all)`;
const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'laptop', width: 1024, height: 768 },
  { name: 'phone', width: 390, height: 844 },
];

describe('pages people enjoy', { timeout: 420_000 }, () => {
  let server;
  let browser;
  let page;
  let long;

  before(async () => {
    server = await startServer();
    await server.api.login('root', ROOT_PASSWORD);
    browser = await launchBrowser({ timezoneId: 'Europe/Berlin' });
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const rows = () => page.locator('#backups-body tr');
  const rowOf = (id) => page.locator(`#backups-body tr[data-id="${id}"]`);

  it('returns to the page asked for after signing in', async () => {
    await page.goto(`${server.base}/web/backups/schedules`);
    assert.equal(new URL(page.url()).pathname, '/web/login');
    await signIn(page, server.base, 'root', ROOT_PASSWORD);
    // signIn opens the form itself, without `next`; the form asked for first carries it.
    await page.goto(`${server.base}/web/backups/schedules`);
    await page.getByRole('heading', { name: 'Backup Schedules', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/web/login');
    await page.goto(`${server.base}/web/backups/schedules`);
    await page.getByLabel('Username').fill('root');
    await page.getByLabel('Password').fill(ROOT_PASSWORD);
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/web/backups/schedules'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await page.getByRole('heading', { name: 'Backup Schedules', level: 1 }).waitFor();
  });

  it('shows an empty state instead of "Showing 0–0 of 0", and Enter creates a backup', async () => {
    await page.goto(`${server.base}/web/backups`);
    await page.locator('#backups-empty', { hasText: 'No backups yet' }).waitFor();
    assert.equal(await page.locator('#backups-pager').isHidden(), true);
    assert.equal(await page.locator('#backups-loading').isHidden(), true);
    await page.locator('link[rel="icon"]').waitFor({ state: 'attached' });
    const favicon = await page.evaluate(async () => (await fetch('/web/assets/favicon.svg')).status);
    assert.equal(favicon, 200);
    await screenshot(page, 'live-empty', { fullPage: false });

    await page.locator('#empty-create').click();
    const dialog = page.locator('#create-dialog');
    await dialog.getByLabel('Description').fill(LONG);
    await dialog.getByLabel(/Expires/).fill(await page.evaluate(() => {
      const soon = new Date(Date.now() + 5 * 24 * 3600 * 1000);
      return new Date(soon.getTime() - soon.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    }));
    await dialog.getByLabel('Description').press('Enter');
    await dialog.waitFor({ state: 'hidden', timeout: 120_000 });
    [long] = (await server.api.call('GET', '/backup/fetch', { limit: 1, offset: 0 })).backups;
    assert.equal(long.description, LONG);
    assert.notEqual(long.expiry, null);
    await rowOf(long.id).waitFor();
  });

  it('names the zone and shows one time format, with UTC on hover', async () => {
    const note = await page.locator('[data-zone-note]').textContent();
    assert.match(note, /Europe\/Berlin/);
    const created = rowOf(long.id).locator('[data-field="created"]');
    assert.match(await created.textContent(), /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), .*\d\d:\d\d (CET|CEST)$/);
    assert.match(await created.getAttribute('title'), / UTC$/);
    const expiry = rowOf(long.id).locator('[data-field="expiry"]');
    assert.match(await expiry.textContent(), /(CET|CEST)$/);
  });

  it('blocks past dates in the expiry picker and says so in the viewer\'s words', async () => {
    await rowOf(long.id).getByRole('button', { name: 'Change expiry' }).click();
    const dialog = page.locator('#expiry-dialog');
    const input = dialog.getByLabel(/Expires/);
    assert.ok(await input.getAttribute('min'), 'the picker has a minimum');
    await input.fill('2001-01-01T10:00');
    await dialog.getByRole('button', { name: 'Save expiry' }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent(), /Mon, 1 Jan 2001, 10:00 CET has already passed/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('keeps every row action visible beside long text and an expiry at 1280, 1024 and phone size', async () => {
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await page.reload();
      const row = rowOf(long.id);
      await row.waitFor();
      for (const name of ['Download', 'Verify', 'Restore', 'Delete']) {
        const action = row.getByRole(name === 'Download' ? 'link' : 'button', { name: new RegExp(`^${name} `) });
        assert.equal(await action.isVisible(), true, `${name} at ${size.name}`);
        const box = await action.boundingBox();
        assert.ok(box.x >= 0 && box.x + box.width <= size.width, `${name} at ${size.name} lies at ${box.x}+${box.width}`);
      }
      for (const name of ['Edit description', 'Change expiry']) {
        assert.equal(await row.getByRole('button', { name: new RegExp(name) }).isVisible(), true, `${name} at ${size.name}`);
      }
      const description = row.locator('[data-field="description"]');
      assert.equal(await description.getAttribute('title'), LONG, 'the whole description on hover');
      const overflow = await page.evaluate(() => {
        const wrap = document.querySelector('.table-wrap');
        return [wrap.scrollWidth - wrap.clientWidth, document.documentElement.scrollWidth - window.innerWidth];
      });
      assert.deepEqual(overflow, [0, 0], `nothing scrolls sideways at ${size.name}`);
      await screenshot(page, `live-backups-${size.name}`, { fullPage: false });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('verifies a backup from its row', async () => {
    await page.reload();
    await rowOf(long.id).getByRole('button', { name: /^Verify / }).click();
    await page.getByRole('status').filter({ hasText: /is intact: \d+ files/ }).waitFor({ timeout: 120_000 });
  });

  it('names every backup a bulk delete removes, also those on another page', async () => {
    for (let i = 1; i <= 21; i += 1) {
      await server.api.call('POST', '/backup/create', { backup: { description: `Filler ${i}` } });
    }
    await page.reload();
    await page.locator('#page-info', { hasText: 'of 22 backups' }).waitFor();
    const firstPage = await rows().first().getAttribute('data-id');
    await rows().first().locator('.row-select').check();
    await page.getByRole('button', { name: /Next/ }).click();
    await page.locator('#page-info', { hasText: 'Showing 21–22' }).waitFor();
    await rowOf(long.id).locator('.row-select').check();
    await page.locator('#selection-count', { hasText: '2 selected (1 on other pages)' }).waitFor();
    await page.getByRole('button', { name: 'Delete selected' }).click();
    const confirm = page.locator('#confirm-dialog');
    await confirm.locator('#confirm-title', { hasText: 'Delete 2 backups?' }).waitFor();
    const names = await confirm.locator('#confirm-list li').allTextContents();
    const first = (await server.api.call('GET', '/backup/fetch/one', { id: Number(firstPage) })).backup;
    assert.equal(names.length, 2);
    assert.ok(names.some((text) => text.startsWith(first.name)), names.join('\n'));
    assert.ok(names.some((text) => text.startsWith(long.name)), names.join('\n'));
    assert.match(await confirm.locator('#confirm-message').textContent(), /1 of them is on other pages/);
    await screenshot(page, 'live-bulk-delete', { fullPage: false });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
  });

  it('offers cron presets, takes a pasted expression and says 7 days, not 168 hours', async () => {
    await page.goto(`${server.base}/web/backups/schedules`);
    await page.locator('#schedules-empty', { hasText: 'No schedules yet' }).waitFor();
    await page.getByRole('button', { name: 'New schedule' }).first().click();
    const dialog = page.locator('#schedule-dialog');
    const box = (label) => dialog.getByLabel(label, { exact: true });
    await dialog.getByRole('button', { name: 'Weekly' }).click();
    assert.deepEqual(await Promise.all(['Minute', 'Hour', 'Day of month', 'Month', 'Day of week']
      .map((label) => box(label).inputValue())), ['0', '0', '*', '*', '0']);
    await dialog.locator('#cron-words', { hasText: 'At 00:00 on Sunday (UTC)' }).waitFor();
    // In Berlin, midnight UTC on Sunday is Sunday 01:00 (or 02:00 in summer).
    await dialog.locator('#cron-local-words', { hasText: /Sunday, 0[12]:00 CES?T/ }).waitFor();

    // Pasting a whole expression into one box fills all five.
    await box('Minute').focus();
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.setData('text/plain', '30 2 * * 1-5');
      document.activeElement.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    assert.deepEqual(await Promise.all(['Minute', 'Hour', 'Day of month', 'Month', 'Day of week']
      .map((label) => box(label).inputValue())), ['30', '2', '*', '*', '1-5']);
    assert.equal(await dialog.getByLabel(/Cron expression/).inputValue(), '30 2 * * 1-5');
    await dialog.getByLabel(/Cron expression/).fill('@monthly');
    assert.equal(await box('Day of month').inputValue(), '1');

    await dialog.getByLabel('Name').fill('Weekly copy');
    await dialog.getByRole('button', { name: 'Weekly' }).click();
    await dialog.getByLabel('Backups expire after').fill('7');
    await dialog.getByLabel('Unit of the expiry').selectOption('24');
    await screenshot(page, 'live-schedule-form', { fullPage: false });
    await dialog.getByRole('button', { name: 'Save schedule' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const [saved] = (await server.api.call('GET', '/backup/schedule/fetch', { limit: 10, offset: 0 })).schedules;
    assert.equal(saved.cron, '0 0 * * 0');
    assert.equal(saved.expiry_hours, 168);
    const row = page.locator(`#schedules-body tr[data-id="${saved.id}"]`);
    assert.equal(await row.locator('[data-field="expiry"]').textContent(), '7 days');
    const next = await row.locator('[data-field="next-run"]').textContent();
    assert.match(next, /^Sun, .* (CET|CEST)$/);
    await row.locator('[data-field="last-run"]', { hasText: 'Not yet' }).waitFor();
  });

  it('shows the bytes and percent of a backup started on another page, on this page', async () => {
    // Enough incompressible data that a backup takes a few seconds.
    const publicDir = path.join(server.root, 'public');
    await mkdir(publicDir, { recursive: true });
    const blobs = Array.from({ length: 12 }, (_, i) => path.join(publicDir, `blob-${i}.bin`));
    for (const blob of blobs) await writeFile(blob, randomBytes(16 * 1024 * 1024));
    await page.goto(`${server.base}/web/backups`);
    await rows().first().waitFor();
    const other = await browser.context.newPage();
    await other.goto(`${server.base}/web/backups`);
    await other.getByRole('button', { name: 'Create a new backup' }).click();
    await other.locator('#create-dialog').getByLabel('Description').fill('Started on the other page');
    await other.locator('#create-dialog').getByRole('button', { name: 'Create backup' }).click();
    // This page: the running backup with its percent, at the top.
    const item = page.locator('#activity .activity-item', { hasText: /Creating a backup… \d+% · .* of / });
    await item.waitFor({ timeout: 60_000 });
    await screenshot(page, 'live-progress-elsewhere', { fullPage: false });
    // The other page: the dialog's own progress line has the percent too.
    await other.locator('#create-progress .progress-detail', { hasText: /\d+%/ }).waitFor({ timeout: 60_000 });
    await screenshot(other, 'live-progress-dialog', { fullPage: false });
    await other.locator('#create-dialog').waitFor({ state: 'hidden', timeout: 180_000 });
    // And the new backup appears here without a reload.
    await rows().first().filter({ hasText: 'Started on the other page' }).waitFor({ timeout: 30_000 });
    await page.locator('#activity').waitFor({ state: 'hidden' });
    await other.close();
    // Later backups (a schedule's) need not carry all that, nor the disk keep it.
    for (const blob of blobs) await rm(blob);
    const big = await server.api.call('GET', '/backup/fetch', { limit: 1, offset: 0, filter: 'Started on the other page' });
    await server.api.call('DELETE', '/backup/delete', { id: big.backups[0].id });
  });

  it('shows a backup made by a schedule without a reload, marked as scheduled', async () => {
    await page.goto(`${server.base}/web/backups`);
    await rows().first().waitFor();
    await server.api.call('POST', '/backup/schedule/create', {
      schedule: { name: 'Every minute', cron: '* * * * *', enabled: true },
    });
    // The server's timer runs it at the start of the next minute.
    const scheduled = rows().filter({ has: page.locator('[data-field="schedule"]:not([hidden])') }).first();
    await scheduled.waitFor({ timeout: 150_000 });
    assert.equal(await scheduled.locator('[data-field="schedule"]').textContent(), 'Scheduled');
    assert.match(await scheduled.locator('[data-field="schedule"]').getAttribute('title'), /Every minute/);
    await screenshot(page, 'live-scheduled-arrived', { fullPage: false });
    await page.goto(`${server.base}/web/backups/schedules`);
    const row = page.locator('#schedules-body tr', { hasText: 'Every minute' });
    await row.locator('[data-field="last-result"]', { hasText: 'Succeeded' }).waitFor({ timeout: 90_000 });
    await screenshot(page, 'live-schedules', { fullPage: false });
    await server.api.call('PATCH', '/backup/schedule/update', {
      id: Number(await row.getAttribute('data-id')), schedule: { enabled: false },
    });
  });

  it('draws the schedules page at 1024 and phone size', async () => {
    for (const size of SIZES.slice(1)) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await page.reload();
      await page.locator('#schedules-body tr').first().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.equal(overflow, 0, `nothing scrolls sideways at ${size.name}`);
      const row = page.locator('#schedules-body tr').first();
      for (const name of [/^Edit /, /^Delete /]) {
        const box = await row.getByRole('button', { name }).boundingBox();
        assert.ok(box.x >= 0 && box.x + box.width <= size.width, `${name} at ${size.name} lies at ${box.x}+${box.width}`);
      }
      await screenshot(page, `live-schedules-${size.name}`, { fullPage: false });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('says once, not again and again, that the server cannot be reached', async () => {
    await page.goto(`${server.base}/web/backups`);
    await rows().first().waitFor();
    await server.stop();
    server = null;
    await page.locator('#activity .offline').waitFor({ timeout: 20_000 });
    const search = page.getByLabel('Search backups');
    await search.fill('a');
    await page.locator('#notices .alert-error').first().waitFor();
    await search.fill('ab');
    await page.locator('#notices .alert-error .times', { hasText: '2 times' }).waitFor();
    assert.equal(await page.locator('#notices .alert-error').count(), 1);
    await screenshot(page, 'live-server-down', { fullPage: false });
  });

  it('raised no script errors or content security policy violations', () => {
    assert.deepEqual(browser.errors, []);
  });
});
