// Offsite copies and uploads on the Backups page in a real browser, against a real S3-compatible
// server (s3s-fs): a copy made while the storage is unreachable shows "Failed" with its reason
// and a Retry button; once the storage is up, Retry makes the copy and the row turns "Copied" by
// itself. An archive kept aside comes back through the Upload button once it is checked; a
// damaged one is refused in words and nothing is listed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ROOT_PASSWORD, launchBrowser, s3Server, screenshot, signIn, sleep, startServer,
} from './harness.mjs';

const BUCKET = 'kinesis-offsite';
const PREFIX = 'browser';

describe('offsite copies and uploads', { timeout: 300_000 }, () => {
  let s3;
  let server;
  let browser;
  let page;
  let files;
  let backup; // made while the storage is down

  before(async () => {
    s3 = await s3Server(BUCKET);
    server = await startServer({
      args: ['--offsite', `s3://${BUCKET}/${PREFIX}`, '--offsite-retry-ms', '20'],
      env: s3.env,
    });
    await server.api.login('root', ROOT_PASSWORD);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    files = await mkdtemp(path.join(tmpdir(), 'kinesis-browser-upload-'));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await s3?.stop();
    if (files) await rm(files, { recursive: true, force: true });
  });

  const rowOf = (id) => page.locator(`#backups-body tr[data-id="${id}"]`);
  const offsiteOf = (id) => rowOf(id).locator('[data-field="offsite"]');
  /** Where the bucket keeps this tenant's copy of `name` on disk. */
  const remoteFile = (name) => path.join(s3.dir, BUCKET, PREFIX, path.basename(server.root), name);

  /** Polls the API until backup `id`'s offsite state is `want`. */
  async function offsiteBecomes(id, want) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { backup: now } = await server.api.call('GET', '/backup/fetch/one', { id });
      if (now.offsite === want) return now;
      if (Date.now() > deadline) throw new Error(`backup ${id} stayed ${now.offsite}, not ${want}`);
      await sleep(100);
    }
  }

  it('shows a copy that failed with its reason, and makes it on Retry', async () => {
    ({ backup } = await server.api.call('POST', '/backup/create', { backup: { description: 'before the move' } }));
    const failed = await offsiteBecomes(backup.id, 'failed');
    assert.ok(failed.offsite_reason, 'a failed copy says why');

    await signIn(page, server.base, 'root', ROOT_PASSWORD);
    await page.getByRole('columnheader', { name: 'Offsite' }).waitFor();
    await offsiteOf(backup.id).filter({ hasText: 'Failed' }).waitFor();
    assert.equal(await offsiteOf(backup.id).getAttribute('title'), failed.offsite_reason);
    const retry = rowOf(backup.id).getByRole('button', { name: 'Retry' });
    await retry.waitFor();
    await screenshot(page, 'backups-offsite-failed');

    await s3.start();
    await retry.click();
    await page.locator('#notices', { hasText: `The offsite copy of ${backup.name} is being made again.` }).waitFor();
    // The page learns of the finished copy by itself, without a reload.
    await offsiteOf(backup.id).filter({ hasText: 'Copied' }).waitFor({ timeout: 60_000 });
    assert.equal(await retry.isHidden(), true, 'no Retry once copied');
    assert.ok(existsSync(remoteFile(backup.name)), 'the archive is in the bucket');
    assert.deepEqual(browser.errors, []);
  });

  it('refuses a damaged upload in words and adds a good one after its check', async () => {
    const response = await fetch(`${server.base}/backup/download?uid=1&id=${backup.id}`, {
      headers: { Authorization: `Bearer ${server.api.token}` },
    });
    assert.equal(response.status, 200);
    const archive = Buffer.from(await response.arrayBuffer());
    await server.api.call('DELETE', '/backup/delete', { id: backup.id });
    // The server removes the remote copy in the background.
    const deadline = Date.now() + 30_000;
    while (existsSync(remoteFile(backup.name))) {
      assert.ok(Date.now() < deadline, 'the delete did not remove the offsite copy');
      await sleep(100);
    }
    await page.reload();
    await page.locator('#backups-empty', { hasText: 'No backups yet' }).waitFor();

    // The same name, one byte flipped in the middle.
    await mkdir(path.join(files, 'damaged'));
    const damaged = Buffer.from(archive);
    damaged[Math.floor(damaged.length / 2)] ^= 0xff;
    const damagedFile = path.join(files, 'damaged', backup.name);
    await writeFile(damagedFile, damaged);
    await page.locator('#upload-file').setInputFiles(damagedFile);
    await page.locator('#notices .alert-error', { hasText: `${backup.name} was not added` }).waitFor({ timeout: 60_000 });
    await page.locator('#backups-empty', { hasText: 'No backups yet' }).waitFor();
    assert.deepEqual((await server.api.call('GET', '/backup/fetch', { limit: 10, offset: 0 })).backups, []);

    const goodFile = path.join(files, backup.name);
    await writeFile(goodFile, archive);
    await page.locator('#upload-file').setInputFiles(goodFile);
    await page.locator('#notices', { hasText: `${backup.name} was checked and added as ${backup.name}.` })
      .waitFor({ timeout: 60_000 });
    await rowOf(backup.id).waitFor();
    await offsiteBecomes(backup.id, 'copied');
    await offsiteOf(backup.id).filter({ hasText: 'Copied' }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'backups-uploaded');
    assert.deepEqual(browser.errors, []);
  });
});
