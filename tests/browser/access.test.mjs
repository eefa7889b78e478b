// Who may use the pages: wrong passwords, forged sign-in forms, non-ROOT users (refused, and
// shown no backup data), the session cookie used without the page's CSRF token, signing out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROOT_PASSWORD, launchBrowser, screenshot, signIn, startServer } from './harness.mjs';

const VIEWER = { username: 'vera', password: 'viewer-password-1', role: 'VIEWER' };

describe('access to the web pages', { timeout: 300_000 }, () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startServer();
    await server.api.login('root', ROOT_PASSWORD);
    await server.api.call('POST', '/user/create', { user: VIEWER });
    await server.api.call('POST', '/backup/create', { backup: { description: 'secret plans' } });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('refuses a wrong password with a message and no session', async () => {
    await page.goto(`${server.base}/web/login`);
    await page.getByLabel('Username').fill('root');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/web/login');
    assert.equal(await page.getByLabel('Username').inputValue(), 'root');
    const cookies = await browser.context.cookies();
    assert.equal(cookies.find((c) => c.name === 'kinesis_session'), undefined);
  });

  it('refuses a sign-in form posted without the form\'s own nonce (login CSRF)', async () => {
    const forged = await fetch(`${server.base}/web/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'root', password: ROOT_PASSWORD, nonce: 'guessed' }),
      redirect: 'manual',
    });
    assert.equal(forged.status, 403);
    assert.doesNotMatch(forged.headers.get('set-cookie') ?? '', /kinesis_session=[^;]/);
  });

  it('shows a non-ROOT user that backups need ROOT, and no backup data', async () => {
    await signIn(page, server.base, VIEWER.username, VIEWER.password);
    const session = (await browser.context.cookies()).find((c) => c.name === 'kinesis_session');
    assert.ok(session, 'signed in');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');

    for (const path of ['/web/backups', '/web/backups/schedules']) {
      const response = await page.goto(`${server.base}${path}`);
      assert.equal(response.status(), 403);
      await page.getByRole('heading', { name: 'Backups need ROOT' }).waitFor();
      assert.match(await page.locator('#root-required').textContent(), /signed in as\s+vera\s+with the role\s+VIEWER/);
      assert.equal(await page.locator('#backups-table, #schedules-table').count(), 0);
      assert.doesNotMatch(await page.content(), /secret plans|backup-\d{8}_/);
    }
    await screenshot(page, 'root-required');

    // The API refuses the viewer's session too, even with the page's CSRF token.
    const status = await page.evaluate(async () => {
      const csrf = document.querySelector('meta[name="kinesis-csrf"]').content;
      const uid = document.querySelector('meta[name="kinesis-uid"]').content;
      const response = await fetch(`/backup/fetch?uid=${uid}&limit=10&offset=0`, { headers: { 'X-CSRF-Token': csrf } });
      return response.status;
    });
    assert.equal(status, 403);
    // Nor does the pages' download link hand the viewer an archive.
    const download = await page.evaluate(async () => {
      const response = await fetch('/web/backups/download?id=1');
      return { status: response.status, type: response.headers.get('content-type') };
    });
    assert.equal(download.status, 403);
    assert.doesNotMatch(download.type ?? '', /gzip/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/web/login');
  });

  it('lets the API accept the session cookie only with the page\'s CSRF token', async () => {
    await signIn(page, server.base, 'root', ROOT_PASSWORD);
    const statuses = await page.evaluate(async () => {
      const csrf = document.querySelector('meta[name="kinesis-csrf"]').content;
      const uid = document.querySelector('meta[name="kinesis-uid"]').content;
      const url = `/backup/fetch?uid=${uid}&limit=10&offset=0`;
      const without = await fetch(url);
      const wrong = await fetch(url, { headers: { 'X-CSRF-Token': 'x'.repeat(csrf.length) } });
      const right = await fetch(url, { headers: { 'X-CSRF-Token': csrf } });
      return [without.status, wrong.status, right.status];
    });
    assert.deepEqual(statuses, [401, 401, 200]);
  });

  it('serves the pages with a strict content security policy', async () => {
    const response = await page.goto(`${server.base}/web/backups`);
    const headers = response.headers();
    assert.match(headers['content-security-policy'], /script-src 'self'/);
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
  });

  it('signs out: the cookie is gone and the pages ask to sign in again', async () => {
    await page.goto(`${server.base}/web/backups`);
    // Signing out from another site's form (no CSRF token) does nothing.
    const forged = await page.evaluate(async () => (await fetch('/web/logout', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'csrf=forged',
      redirect: 'manual',
    })).status);
    assert.equal(forged, 403);
    assert.ok((await browser.context.cookies()).some((c) => c.name === 'kinesis_session'));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/web/login');
    assert.equal((await browser.context.cookies()).some((c) => c.name === 'kinesis_session'), false);
    await page.goto(`${server.base}/web/backups/schedules`);
    assert.equal(new URL(page.url()).pathname, '/web/login');
  });

  it('raised no script errors or content security policy violations', () => {
    assert.deepEqual(browser.errors, []);
  });
});
