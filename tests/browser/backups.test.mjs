// The Backups page in a real browser: sign in, create a backup with a description, find it by
// search, page through 61 backups, edit its description and expiry, download it, restore it (and
// see the restored records in the data API), delete it, bulk delete, and errors shown in words.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  ROOT_PASSWORD, launchBrowser, screenshot, screenshotAsPhone, signIn, startServer,
} from './harness.mjs';

const DESCRIPTION = 'Before the spring catalogue import';
const EDITED = 'Known good state, spring 2026';

describe('backups page', { timeout: 300_000 }, () => {
  let server;
  let browser;
  let page;
  let first; // the backup made through the dialog

  before(async () => {
    server = await startServer();
    await server.api.login('root', ROOT_PASSWORD);
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const rows = () => page.locator('#backups-body tr');
  const rowOf = (id) => page.locator(`#backups-body tr[data-id="${id}"]`);
  const pageInfo = () => page.locator('#page-info');

  it('sends a signed-out visitor to the sign-in form, then lands on the backups', async () => {
    await page.goto(`${server.base}/web/backups`);
    assert.equal(new URL(page.url()).pathname, '/web/login');
    await screenshot(page, 'login');
    await signIn(page, server.base, 'root', ROOT_PASSWORD);
    assert.equal(new URL(page.url()).pathname, '/web/backups');
    await page.getByRole('heading', { name: 'Backups', level: 1 }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Backups', exact: true }).waitFor();
    await nav.getByRole('link', { name: 'Backup Schedules' }).waitFor();
    await page.locator('#backups-empty', { hasText: 'No backups yet' }).waitFor();
    // An empty list says so, without a pager counting nothing.
    assert.equal(await page.locator('#backups-pager').isHidden(), true);
  });

  it('creates a backup with a description and shows progress until it is listed', async () => {
    await server.api.call('POST', '/data/create', { collection: 'notes', key: 'greeting', value: 'hello from before the backup' });
    await page.getByRole('button', { name: 'Create a new backup' }).click();
    const dialog = page.locator('#create-dialog');
    await dialog.getByLabel('Description').fill(DESCRIPTION);
    await screenshot(page, 'backups-create-dialog');
    // Watch the progress line: it must show while the server works.
    await page.evaluate(() => {
      window.progressSeen = false;
      const progress = document.getElementById('create-progress');
      new MutationObserver(() => { if (!progress.hidden) window.progressSeen = true; })
        .observe(progress, { attributes: true });
    });
    await dialog.getByRole('button', { name: 'Create backup' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 120_000 });
    assert.equal(await page.evaluate(() => window.progressSeen), true, 'the progress line was never shown');
    await rows().first().filter({ hasText: DESCRIPTION }).waitFor();
    await page.getByRole('status').filter({ hasText: /Backup backup-.* created/ }).waitFor();

    const answer = await server.api.call('GET', '/backup/fetch', { limit: 10, offset: 0 });
    assert.equal(answer.amount, 1);
    [first] = answer.backups;
    assert.equal(first.description, DESCRIPTION);
    assert.equal(first.expiry, null);
    const row = rowOf(first.id);
    assert.equal(await row.locator('[data-field="name"]').textContent(), first.name);
    // Local time in the cell, UTC in its title.
    const created = row.locator('[data-field="created"]');
    const utc = `${first.created_at.slice(0, 19).replace('T', ' ')} UTC`;
    assert.equal(await created.getAttribute('title'), utc);
    assert.notEqual(await created.textContent(), '');
    assert.equal(await row.locator('[data-field="expiry"]').textContent(), 'Never');
  });

  it('finds the backup by searching as you type', async () => {
    // 60 more backups, made quickly through the JSON API.
    for (let i = 1; i <= 60; i += 1) {
      await server.api.call('POST', '/backup/create', { backup: { description: `Nightly copy ${String(i).padStart(2, '0')}` } });
    }
    await page.reload();
    await pageInfo().filter({ hasText: 'Showing 1–20 of 61 backups' }).waitFor();

    await page.getByLabel('Search backups').pressSequentially('spring cat', { delay: 30 });
    await pageInfo().filter({ hasText: 'of 1 backup' }).waitFor();
    assert.equal(await rows().count(), 1);
    assert.equal(await rows().first().getAttribute('data-id'), String(first.id));

    // By name too, case-insensitive.
    await page.getByLabel('Search backups').fill(first.name.toUpperCase());
    await pageInfo().filter({ hasText: 'of 1 backup' }).waitFor();
    assert.equal(await rows().first().getAttribute('data-id'), String(first.id));

    await page.getByLabel('Search backups').fill('no such backup anywhere');
    await page.locator('#backups-empty', { hasText: 'No backup matches' }).waitFor();
    assert.equal(await rows().count(), 0);

    await page.getByLabel('Search backups').fill('');
    await pageInfo().filter({ hasText: 'Showing 1–20 of 61 backups' }).waitFor();
  });

  it('pages through 61 backups, newest first', async () => {
    assert.match(await rows().first().textContent(), /Nightly copy 60/);
    await screenshot(page, 'backups');
    const next = page.getByRole('button', { name: /Next/ });
    const previous = page.getByRole('button', { name: /Previous/ });
    assert.equal(await previous.isDisabled(), true);
    const seen = new Set();
    for (const [info, count] of [['21–40', 20], ['41–60', 20], ['61–61', 1]]) {
      for (const id of await rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.id))) seen.add(id);
      await next.click();
      await pageInfo().filter({ hasText: `Showing ${info} of 61 backups` }).waitFor();
      assert.equal(await rows().count(), count);
    }
    for (const id of await rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.id))) seen.add(id);
    assert.equal(seen.size, 61, 'every backup appears on exactly one page');
    assert.equal(await page.locator('#page-number').textContent(), 'Page 4 of 4');
    assert.equal(await next.isDisabled(), true);
    // The oldest, on the last page, is the first backup.
    assert.equal(await rows().first().getAttribute('data-id'), String(first.id));
    await previous.click();
    await pageInfo().filter({ hasText: 'Showing 41–60 of 61 backups' }).waitFor();
  });

  it('edits the description and the expiry, and clears the expiry', async () => {
    await page.getByLabel('Search backups').fill('spring');
    await rows().filter({ hasText: DESCRIPTION }).waitFor();
    const row = rowOf(first.id);

    await row.getByRole('button', { name: 'Description' }).click();
    const descriptionDialog = page.locator('#description-dialog');
    assert.equal(await descriptionDialog.getByLabel('Description').inputValue(), DESCRIPTION);
    await descriptionDialog.getByLabel('Description').fill(EDITED);
    await descriptionDialog.getByRole('button', { name: 'Save description' }).click();
    await descriptionDialog.waitFor({ state: 'hidden' });
    await page.getByLabel('Search backups').fill('spring 2026');
    await row.locator('[data-field="description"]', { hasText: EDITED }).waitFor();
    let record = (await server.api.call('GET', '/backup/fetch/one', { id: first.id })).backup;
    assert.equal(record.description, EDITED);

    // Three days ahead at 10:30 in the browser's time zone (Europe/Berlin).
    const local = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString().slice(0, 10) + 'T10:30';
    const expectedUtc = await page.evaluate((value) => new Date(value).toISOString(), local);
    await row.getByRole('button', { name: 'Expiry' }).click();
    const expiryDialog = page.locator('#expiry-dialog');
    await expiryDialog.getByLabel(/Expires/).fill(local);
    await screenshot(page, 'backups-expiry-dialog');
    await expiryDialog.getByRole('button', { name: 'Save expiry' }).click();
    await expiryDialog.waitFor({ state: 'hidden' });
    record = (await server.api.call('GET', '/backup/fetch/one', { id: first.id })).backup;
    assert.equal(new Date(record.expiry).toISOString(), expectedUtc);
    const expiryCell = row.locator('[data-field="expiry"]');
    await expiryCell.and(page.locator(`[title="${expectedUtc.slice(0, 19).replace('T', ' ')} UTC"]`)).waitFor();
    assert.notEqual(await expiryCell.textContent(), 'Never');

    await row.getByRole('button', { name: 'Expiry' }).click();
    assert.equal(await expiryDialog.getByLabel(/Expires/).inputValue(), local);
    await expiryDialog.getByRole('button', { name: 'Remove the expiry' }).click();
    await expiryDialog.waitFor({ state: 'hidden' });
    await expiryCell.filter({ hasText: 'Never' }).waitFor();
    record = (await server.api.call('GET', '/backup/fetch/one', { id: first.id })).backup;
    assert.equal(record.expiry, null);
  });

  it('shows the server\'s error in words and changes nothing', async () => {
    const row = rowOf(first.id);
    await row.getByRole('button', { name: 'Expiry' }).click();
    const expiryDialog = page.locator('#expiry-dialog');
    await expiryDialog.getByLabel(/Expires/).fill('2001-01-01T00:00');
    await expiryDialog.getByRole('button', { name: 'Save expiry' }).click();
    const error = expiryDialog.getByRole('alert');
    await error.waitFor();
    const text = await error.textContent();
    assert.ok(text.length > 15 && /[a-z]{3,}/.test(text), `error in words: ${text}`);
    assert.doesNotMatch(text, /^\d{3}\b/);
    await screenshot(page, 'backups-error');
    await expiryDialog.getByRole('button', { name: 'Cancel' }).click();
    const record = (await server.api.call('GET', '/backup/fetch/one', { id: first.id })).backup;
    assert.equal(record.expiry, null);
  });

  it('downloads the archive', async () => {
    const row = rowOf(first.id);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      row.getByRole('link', { name: 'Download' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), first.name);
    const bytes = await readFile(await download.path());
    assert.equal(createHash('sha256').update(bytes).digest('hex'), first.sha256);
  });

  it('restores the backup after a warning, and the records API shows the data it brought back', async () => {
    await server.api.call('DELETE', '/data/delete', { collection: 'notes', key: 'greeting' });
    await server.api.call('POST', '/data/create', { collection: 'notes', key: 'later', value: 'written after the backup' });
    const keys = async () => (await server.api.call('GET', '/data/fetch', { collection: 'notes' })).records.map((r) => r.key).sort();
    assert.deepEqual(await keys(), ['later']);

    await rowOf(first.id).getByRole('button', { name: 'Restore' }).click();
    const confirm = page.locator('#confirm-dialog');
    await confirm.waitFor();
    assert.match(await confirm.textContent(), /replaces ALL current data/);
    await screenshot(page, 'backups-restore-confirm');
    // Cancel first: nothing happens.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    assert.deepEqual(await keys(), ['later']);

    await rowOf(first.id).getByRole('button', { name: 'Restore' }).click();
    await confirm.getByRole('button', { name: 'Restore and replace all data' }).click();
    await page.getByRole('status').filter({ hasText: /^Restored backup-/ }).waitFor({ timeout: 120_000 });
    const records = (await server.api.call('GET', '/data/fetch', { collection: 'notes' })).records;
    assert.deepEqual(records, [{ key: 'greeting', value: 'hello from before the backup' }]);
  });

  it('deletes the backup after confirmation', async () => {
    await rowOf(first.id).getByRole('button', { name: 'Delete' }).click();
    const confirm = page.locator('#confirm-dialog');
    assert.match(await confirm.textContent(), /cannot be undone/);
    await confirm.getByRole('button', { name: 'Delete backup' }).click();
    await rowOf(first.id).waitFor({ state: 'detached' });
    await server.api.call('GET', '/backup/fetch/one', { id: first.id }, { expectStatus: 404 });
    assert.equal((await server.api.call('GET', '/backup/fetch', { limit: 1, offset: 0 })).amount, 60);
  });

  it('deletes several selected backups in one go', async () => {
    await page.getByLabel('Search backups').fill('');
    await pageInfo().filter({ hasText: 'Showing 1–20 of 60 backups' }).waitFor();
    const ids = (await rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.id))).slice(0, 3);
    for (const id of ids) await rowOf(id).locator('.row-select').check();
    await page.locator('#selection-count', { hasText: '3 selected' }).waitFor();
    await page.getByRole('button', { name: 'Delete selected' }).click();
    const confirm = page.locator('#confirm-dialog');
    assert.match(await confirm.locator('#confirm-title').textContent(), /Delete 3 backups\?/);
    await confirm.getByRole('button', { name: 'Delete 3 backups' }).click();
    await pageInfo().filter({ hasText: 'of 57 backups' }).waitFor();
    for (const id of ids) {
      await server.api.call('GET', '/backup/fetch/one', { id }, { expectStatus: 404 });
    }
    assert.equal(await page.getByRole('button', { name: 'Delete selected' }).isDisabled(), true);
  });

  it('fits a phone screen', async () => {
    const overflow = await screenshotAsPhone(page, 'backups-phone', () => rows().first().waitFor());
    assert.equal(overflow, 0, 'the page scrolls sideways on a phone');
  });

  it('raised no script errors or content security policy violations', () => {
    assert.deepEqual(browser.errors, []);
  });
});
