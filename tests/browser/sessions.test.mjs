// Sessions kept by the server: after signing out, the old cookie opens nothing and Back shows no
// backup data; and the sign-in form says how long to wait once too many passwords were wrong.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROOT_PASSWORD, launchBrowser, screenshot, signIn, startServer } from './harness.mjs';

const SECRET = 'quarterly figures, do not share';

describe('web sessions and sign-in throttling', { timeout: 300_000 }, () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startServer();
    await server.api.login('root', ROOT_PASSWORD);
    await server.api.call('POST', '/backup/create', { backup: { description: SECRET } });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('ends the session on the server: the old cookie and Back show no data after signing out', async () => {
    await signIn(page, server.base, 'root', ROOT_PASSWORD);
    await page.getByText(SECRET).waitFor();
    const response = await page.reload();
    assert.equal(response.headers()['cache-control'], 'no-store');
    await page.getByText(SECRET).waitFor();
    const old = (await browser.context.cookies()).find((c) => c.name === 'kinesis_session');
    assert.ok(old, 'signed in');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/web/login');

    // Back: the browser asks the server again and is sent to the sign-in form.
    await page.goBack();
    await page.waitForLoadState('load');
    await page.waitForTimeout(500);
    assert.equal(new URL(page.url()).pathname, '/web/login');
    assert.doesNotMatch(await page.content(), new RegExp(SECRET));

    // The old cookie, put back by hand, opens nothing either.
    await browser.context.addCookies([{ ...old }]);
    await page.goto(`${server.base}/web/backups`);
    assert.equal(new URL(page.url()).pathname, '/web/login');
    assert.doesNotMatch(await page.content(), new RegExp(SECRET));
    await page.getByLabel('Username').waitFor();
  });

  it('shows the throttle message after too many wrong passwords, and keeps the owner out of it', async () => {
    await browser.context.clearCookies();
    const attempt = async (password) => {
      await page.goto(`${server.base}/web/login`);
      await page.getByLabel('Username').fill('root');
      await page.getByLabel('Password').fill(password);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/web/login') && r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Sign in' }).click(),
      ]);
      await page.waitForLoadState('load');
      return response;
    };
    for (let n = 0; n < 5; n += 1) {
      assert.equal((await attempt('not the password')).status(), 401);
    }
    const refused = await attempt(ROOT_PASSWORD);
    assert.equal(refused.status(), 429);
    const wait = Number(refused.headers()['retry-after']);
    assert.ok(wait >= 1, `Retry-After: ${refused.headers()['retry-after']}`);
    await page.getByRole('alert').filter({ hasText: /Too many failed sign-ins\. Wait \d+ seconds/ }).waitFor();
    assert.equal((await browser.context.cookies()).some((c) => c.name === 'kinesis_session'), false);
    await screenshot(page, 'login-throttled');

    // Released after the wait.
    await page.waitForTimeout(wait * 1000 + 300);
    await signIn(page, server.base, 'root', ROOT_PASSWORD);
    assert.equal(new URL(page.url()).pathname, '/web/backups');
  });

  it('raised no script errors or content security policy violations', () => {
    assert.deepEqual(browser.errors, []);
  });
});
