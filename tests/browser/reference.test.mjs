// The interactive API reference at /scalar, in a real browser: it draws the OpenAPI document of
// the server from files the server serves itself, with no script errors and no request to any
// other site.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, screenshot, startServer } from './harness.mjs';

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

  it('draws every group of endpoints from /openapi.json', async () => {
    await page.goto(`${server.base}/scalar`);
    await page.getByText('Kinesis Backup HTTP API').first().waitFor();
    for (const text of ['/backup/create', '/backup/activity', '/backup/schedule/fetch']) {
      await page.getByText(text).first().waitFor({ state: 'attached' });
    }
    await screenshot(page, 'api-reference', { fullPage: false });
    assert.deepEqual(elsewhere, []);
  });

  it('raised no script errors or content security policy violations', () => {
    assert.deepEqual(browser.errors, []);
  });
});
