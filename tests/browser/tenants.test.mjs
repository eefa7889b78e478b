// Two tenants of one `serve --tenants` process in a real browser, at acme.localhost and
// beta.localhost (chromium sends every *.localhost name to the loopback address): signing in at
// one does not sign you in at the other, and each sees only its own backups.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, screenshot, signIn, startTenantServer } from './harness.mjs';

const PASSWORD = 'tenant-browser-root-pw';

describe('two tenants side by side', { timeout: 300_000 }, () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startTenantServer({
      password: PASSWORD,
      tenants: { acme: 'Acme launch plans', beta: 'Beta quarterly numbers' },
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const rows = () => page.locator('#backups-body tr');

  it('signs in at acme and shows only acme\'s backups', async () => {
    await signIn(page, server.url('acme'), 'root', PASSWORD);
    assert.equal(new URL(page.url()).pathname, '/web/backups');
    await rows().filter({ hasText: 'Acme launch plans' }).first().waitFor();
    assert.equal(await page.getByText('Beta quarterly numbers').count(), 0);
    await screenshot(page, 'tenants-acme');
  });

  it('is not signed in at beta with acme\'s session', async () => {
    await page.goto(`${server.url('beta')}/web/backups`);
    await page.waitForURL((url) => url.pathname === '/web/login');
    assert.equal(new URL(page.url()).host, `beta.localhost:${server.port}`);
    const cookies = await browser.context.cookies(server.url('beta'));
    assert.equal(cookies.find((c) => c.name === 'kinesis_session'), undefined, 'acme\'s cookie was sent to beta');
  });

  it('signs in at beta too, each host keeping its own session and data', async () => {
    await signIn(page, server.url('beta'), 'root', PASSWORD);
    await rows().filter({ hasText: 'Beta quarterly numbers' }).first().waitFor();
    assert.equal(await page.getByText('Acme launch plans').count(), 0);
    await screenshot(page, 'tenants-beta');
    await page.goto(`${server.url('acme')}/web/backups`);
    await rows().filter({ hasText: 'Acme launch plans' }).first().waitFor();
    assert.equal(await page.getByText('Beta quarterly numbers').count(), 0);
  });

  it('raised no script errors', () => {
    assert.deepEqual(browser.errors, []);
  });
});
