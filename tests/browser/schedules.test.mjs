// The Backup Schedules page in a real browser: create a schedule with the five cron fields and
// its live preview, edit it, disable and enable it, delete it, and check the next run the
// server computed against the one expected.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ROOT_PASSWORD, launchBrowser, nextUtc, screenshot, screenshotAsPhone, signIn, startServer,
} from './harness.mjs';

const utcTitle = (iso) => `${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

describe('backup schedules page', { timeout: 300_000 }, () => {
  let server;
  let browser;
  let page;
  let schedule;

  before(async () => {
    server = await startServer();
    await server.api.login('root', ROOT_PASSWORD);
    browser = await launchBrowser({ timezoneId: 'America/New_York' });
    page = await browser.context.newPage();
    await signIn(page, server.base, 'root', ROOT_PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const dialog = () => page.locator('#schedule-dialog');
  const cronInput = (label) => dialog().getByLabel(label, { exact: true });
  const fetchOne = async (id) => {
    const answer = await server.api.call('GET', '/backup/schedule/fetch', { limit: 100, offset: 0 });
    return answer.schedules.find((s) => s.id === id);
  };

  it('is reached from the sidebar, under Backups', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Backup Schedules' }).click();
    await page.waitForURL('**/web/backups/schedules');
    await page.getByRole('heading', { name: 'Backup Schedules', level: 1 }).waitFor();
    await page.locator('#schedules-empty').waitFor();
  });

  it('creates a schedule, previewing it in plain words and next run times', async () => {
    await page.getByRole('button', { name: 'New schedule' }).click();
    await dialog().getByLabel('Name').fill('Nightly');
    await cronInput('Minute').fill('30');
    await cronInput('Hour').fill('1');
    await dialog().locator('#cron-words', { hasText: 'At 01:30 every day (UTC)' }).waitFor();
    const previews = dialog().locator('#cron-next li');
    assert.equal(await previews.count(), 5);
    const expectedFirst = nextUtc(new Date(), { hour: 1, minute: 30 });
    assert.equal(await previews.first().getAttribute('title'), utcTitle(expectedFirst));
    for (const title of await previews.evaluateAll((items) => items.map((li) => li.title))) {
      assert.match(title, / 01:30:00 UTC$/);
    }
    await dialog().getByLabel('Backups expire after').fill('72');
    await screenshot(page, 'schedule-form');
    await dialog().getByRole('button', { name: 'Save schedule' }).click();
    await dialog().waitFor({ state: 'hidden' });

    const answer = await server.api.call('GET', '/backup/schedule/fetch', { limit: 10, offset: 0 });
    assert.equal(answer.amount, 1);
    [schedule] = answer.schedules;
    assert.equal(schedule.name, 'Nightly');
    assert.equal(schedule.cron, '30 1 * * *');
    assert.equal(schedule.expiry_hours, 72);
    assert.equal(schedule.enabled, true);
    assert.equal(new Date(schedule.next_run).toISOString(), nextUtc(new Date(), { hour: 1, minute: 30 }).toISOString());

    const row = page.locator(`#schedules-body tr[data-id="${schedule.id}"]`);
    await row.locator('[data-field="cron"]', { hasText: '30 1 * * *' }).waitFor();
    assert.equal(await row.locator('[data-field="words"]').textContent(), 'At 01:30 every day (UTC)');
    assert.equal(await row.locator('[data-field="next-run"]').getAttribute('title'), utcTitle(schedule.next_run));
    assert.equal(await row.locator('[data-field="expiry"]').textContent(), '3 days');
    await screenshot(page, 'schedules');
    const overflow = await screenshotAsPhone(page, 'schedules-phone', () => row.waitFor());
    assert.equal(overflow, 0, 'the page scrolls sideways on a phone');
  });

  it('refuses an invalid cron field before sending it, naming the field', async () => {
    await page.getByRole('button', { name: 'New schedule' }).click();
    await dialog().getByLabel('Name').fill('Broken');
    await cronInput('Minute').fill('61');
    await dialog().locator('#cron-words', { hasText: 'minute value 61 is out of range 0-59' }).waitFor();
    assert.equal(await cronInput('Minute').getAttribute('aria-invalid'), 'true');
    await dialog().getByRole('button', { name: 'Save schedule' }).click();
    await dialog().getByRole('alert').filter({ hasText: 'minute value 61' }).waitFor();
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await server.api.call('GET', '/backup/schedule/fetch', { limit: 10, offset: 0 })).amount, 1);
  });

  it('edits the schedule to run on Sundays, and the server agrees on the next run', async () => {
    const row = page.locator(`#schedules-body tr[data-id="${schedule.id}"]`);
    await row.getByRole('button', { name: 'Edit' }).click();
    assert.equal(await dialog().getByLabel('Name').inputValue(), 'Nightly');
    assert.equal(await cronInput('Minute').inputValue(), '30');
    await dialog().getByLabel('Name').fill('Weekly');
    await cronInput('Minute').fill('0');
    await cronInput('Hour').fill('0');
    await cronInput('Day of week').fill('0');
    await dialog().locator('#cron-words', { hasText: 'At 00:00 on Sunday (UTC)' }).waitFor();
    await dialog().getByLabel('Backups expire after').fill('');
    await dialog().getByRole('button', { name: 'Save schedule' }).click();
    await dialog().waitFor({ state: 'hidden' });

    const saved = await fetchOne(schedule.id);
    assert.equal(saved.name, 'Weekly');
    assert.equal(saved.cron, '0 0 * * 0');
    assert.equal(saved.expiry_hours, null);
    const next = new Date(saved.next_run);
    assert.equal(next.getUTCDay(), 0, `${saved.next_run} is a Sunday`);
    assert.equal(next.toISOString(), nextUtc(new Date(), { hour: 0, minute: 0, weekday: 0 }).toISOString());
    await row.locator('[data-field="name"]', { hasText: 'Weekly' }).waitFor();
    await row.locator(`[data-field="next-run"][title="${utcTitle(saved.next_run)}"]`).waitFor();
    assert.equal(await row.locator('[data-field="expiry"]').textContent(), 'Never');
  });

  it('disables and enables it with the toggle', async () => {
    const row = page.locator(`#schedules-body tr[data-id="${schedule.id}"]`);
    const toggle = row.getByRole('switch');
    assert.equal(await toggle.isChecked(), true);
    await toggle.click({ force: true });
    await row.locator('[data-field="enabled"]', { hasText: 'Disabled' }).waitFor();
    let saved = await fetchOne(schedule.id);
    assert.equal(saved.enabled, false);
    assert.equal(saved.next_run, null);
    assert.equal(await row.locator('[data-field="next-run"]').textContent(), 'Not while disabled');
    await screenshot(page, 'schedules-disabled');

    await row.getByRole('switch').click({ force: true });
    await row.locator('[data-field="enabled"]', { hasText: 'Enabled' }).waitFor();
    saved = await fetchOne(schedule.id);
    assert.equal(saved.enabled, true);
    assert.equal(new Date(saved.next_run).getUTCDay(), 0);
  });

  it('deletes it after confirmation', async () => {
    const row = page.locator(`#schedules-body tr[data-id="${schedule.id}"]`);
    await row.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.locator('#confirm-dialog');
    assert.match(await confirm.textContent(), /Backups it already made are kept/);
    await confirm.getByRole('button', { name: 'Delete schedule' }).click();
    await row.waitFor({ state: 'detached' });
    await page.locator('#schedules-empty').waitFor();
    assert.equal((await server.api.call('GET', '/backup/schedule/fetch', { limit: 10, offset: 0 })).amount, 0);
  });

  it('raised no script errors or content security policy violations', () => {
    assert.deepEqual(browser.errors, []);
  });
});
