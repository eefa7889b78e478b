// The interactive API reference at /scalar, in a real browser: it draws every endpoint of the
// server's OpenAPI document, signs in and sends a call from the page, with no script errors and
// no request to any other site.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROOT_PASSWORD, launchBrowser, screenshot, startServer } from './harness.mjs';

describe('API reference', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let page;
  const elsewhere = [];

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('request', (request) => {
      if (!request.url().startsWith(server.base) && !request.url().startsWith('data:')) elsewhere.push(request.url());
    });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('draws every endpoint of /openapi.json', async () => {
    await page.goto(`${server.base}/scalar`);
    await page.getByRole('heading', { name: /Kinesis Backup HTTP API/ }).waitFor();
    const doc = await (await fetch(`${server.base}/openapi.json`)).json();
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    assert.equal(await page.locator('section.operation').count(), operations);
    await screenshot(page, 'api-reference', { fullPage: false });
    assert.deepEqual(elsewhere, []);
  });

  it('signs in and sends a call from the page', async () => {
    await page.locator('summary', { hasText: 'Sign in' }).click();
    await page.getByLabel('Password').fill(ROOT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(() => document.getElementById('token').value.length > 20);
    const section = page.locator('section.operation', { has: page.locator('code', { hasText: /^\/backup\/activity$/ }) });
    await section.getByRole('button', { name: /Send GET/ }).click();
    await section.locator('pre.answer', { hasText: '200 OK' }).waitFor();
    assert.match(await section.locator('pre.answer').textContent(), /"activity"/);
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, 'api-reference-try', { fullPage: false });
  });

  it('raised no script errors or content security policy violations', () => {
    assert.deepEqual(browser.errors, []);
  });
});
