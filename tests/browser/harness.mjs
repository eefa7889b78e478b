// Shared helpers of the browser tests: start the built server on a free port with a fresh
// tenant folder, call its JSON API, drive Debian's chromium through playwright-core, and keep
// screenshots in tests/artifacts/.
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** The repository's top folder. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where screenshots go (gitignored). */
export const ARTIFACTS = path.join(REPO_ROOT, 'tests', 'artifacts');
/** The ROOT user's password on every test server. */
export const ROOT_PASSWORD = 'browser-test-root-pw';
const CHROMIUM = '/usr/bin/chromium';
const STARTUP_TIMEOUT_MS = 60_000;
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

function serverBinary() {
  const bin = process.env.KINESIS_BIN
    ? path.resolve(REPO_ROOT, process.env.KINESIS_BIN)
    : path.join(REPO_ROOT, 'target', 'debug', 'kinesis-backup');
  if (!existsSync(bin)) {
    throw new Error(`the server binary ${bin} does not exist: run \`cargo build -p kinesis-backup\` first, or set KINESIS_BIN`);
  }
  return bin;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * Starts `kinesis-backup serve` on a new tenant folder and waits until it answers; `args` are
 * more options of `serve`, `env` more variables. Returns { base, root, api, stop, output }.
 */
export async function startServer({ args = [], env = {} } = {}) {
  const bin = serverBinary();
  const root = await mkdtemp(path.join(tmpdir(), 'kinesis-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['serve', '--root', root, '--addr', `127.0.0.1:${port}`, ...args], {
    env: { ...process.env, KINESIS_ROOT_PASSWORD: ROOT_PASSWORD, RUST_LOG: process.env.RUST_LOG ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  let exited = null;
  child.on('exit', (code, signal) => { exited = signal ?? code; });

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exited !== null) throw new Error(`the server stopped at startup (${exited}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not answer within ${STARTUP_TIMEOUT_MS} ms:\n${output}`);
    }
    try {
      const response = await fetch(`${base}/web/login`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }

  const stop = async () => {
    if (exited === null) {
      const gone = new Promise((resolve) => { child.once('exit', resolve); });
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    await rm(root, { recursive: true, force: true });
  };
  return { base, root, api: new Api(base), stop, output: () => output };
}

/** The `s3s-fs` binary that tests/install_s3s.sh installed: on PATH, or in cargo's bin folder. */
function s3sBinary() {
  const candidates = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 's3s-fs'));
  const cargoHome = process.env.CARGO_HOME ?? path.join(process.env.HOME ?? '/root', '.cargo');
  candidates.push(path.join(cargoHome, 'bin', 's3s-fs'));
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error('s3s-fs is not installed: run `bash tests/install_s3s.sh`');
  return found;
}

/**
 * An S3-compatible server (`s3s-fs`) for offsite copies, on a port chosen now but not started
 * until `start()`, so that a test can begin with the storage unreachable. `env` holds the AWS_*
 * variables that point the backup server at it; `stop()` ends it and removes its folder.
 */
export async function s3Server(bucket) {
  const dir = await mkdtemp(path.join(tmpdir(), 'kinesis-browser-s3-'));
  await mkdir(path.join(dir, bucket));
  const port = await freePort();
  const keys = { id: 'browser-test-key', secret: 'browser-test-secret' };
  let child = null;
  const start = async () => {
    child = spawn(s3sBinary(), ['--host', '127.0.0.1', '--port', String(port), '--access-key', keys.id,
      '--secret-key', keys.secret, dir], { stdio: 'ignore' });
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      try {
        await fetch(`http://127.0.0.1:${port}/`);
        return;
      } catch {
        await sleep(100);
      }
    }
    throw new Error('s3s-fs did not start');
  };
  const stop = async () => {
    if (child && child.exitCode === null) {
      const gone = new Promise((resolve) => { child.once('exit', resolve); });
      child.kill('SIGKILL');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const env = {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: keys.id, AWS_SECRET_ACCESS_KEY: keys.secret,
    AWS_REGION: 'us-east-1', AWS_ALLOW_HTTP: 'true',
  };
  return { dir, env, start, stop };
}

/** GET `pathname` at 127.0.0.1:`port` with the `Host` header `host`; resolves to the status. */
function getWithHost(port, host, pathname) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, headers: { Host: host } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Makes a folder of tenants with the CLI (`tenant create`, each with one backup described as
 * given), starts `kinesis-backup serve --tenants` on it, and waits until it answers.
 * `tenants` maps each tenant's name to its backup's description. Returns { url(name), port, stop }.
 */
export async function startTenantServer({ password, tenants }) {
  const bin = serverBinary();
  const dir = await mkdtemp(path.join(tmpdir(), 'kinesis-browser-tenants-'));
  const env = { ...process.env, KINESIS_ROOT_PASSWORD: password, RUST_LOG: 'warn' };
  const run = (args) => {
    const result = spawnSync(bin, args, { env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`kinesis-backup ${args.join(' ')} failed:\n${result.stderr}`);
  };
  for (const [name, description] of Object.entries(tenants)) {
    run(['tenant', 'create', name, '--tenants', dir]);
    run(['--root', path.join(dir, name), 'backup', 'create', '--description', description]);
  }
  const port = await freePort();
  const child = spawn(bin, ['serve', '--tenants', dir, '--addr', `127.0.0.1:${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const [first] = Object.keys(tenants);
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not answer within ${STARTUP_TIMEOUT_MS} ms:\n${output}`);
    }
    try {
      if ((await getWithHost(port, `${first}.localhost`, '/web/login')) === 200) break;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  const stop = async () => {
    const gone = new Promise((resolve) => { child.once('exit', resolve); });
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  };
  return { url: (name) => `http://${name}.localhost:${port}`, port, stop, output: () => output };
}

/** A small client of the JSON API, signed in as one user. */
export class Api {
  constructor(base) {
    this.base = base;
    this.token = null;
    this.uid = null;
  }

  /** Signs in; later calls carry the token and the uid. Returns the user. */
  async login(username, password) {
    const answer = await this.call('POST', '/user/login', { auth_data: username, password }, { raw: true });
    this.token = answer.token;
    this.uid = answer.user.id;
    return answer.user;
  }

  /**
   * Calls an endpoint: GET/DELETE put `data` and uid in the query, POST/PATCH send it as JSON
   * with uid. Resolves to the JSON answer; throws with the server's message on a non-2xx.
   */
  async call(method, pathname, data = {}, { raw = false, expectStatus } = {}) {
    const url = new URL(pathname, this.base);
    const withUid = raw ? data : { uid: this.uid, ...data };
    const init = { method, headers: {} };
    if (this.token) init.headers.Authorization = `Bearer ${this.token}`;
    if (method === 'GET' || method === 'DELETE') {
      for (const [key, value] of Object.entries(withUid)) url.searchParams.set(key, String(value));
    } else {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(withUid);
    }
    const response = await fetch(url, init);
    const json = await response.json();
    if (expectStatus !== undefined) {
      if (response.status !== expectStatus) {
        throw new Error(`${method} ${pathname}: expected ${expectStatus}, got ${response.status}: ${json.message}`);
      }
    } else if (!response.ok) {
      throw new Error(`${method} ${pathname} failed with ${response.status}: ${json.message}`);
    }
    return json;
  }
}

/**
 * Launches headless chromium with a new, empty user data folder. Returns the browser context
 * (desktop size; times shown in `timezoneId`), a `close` that removes the folder, and `errors`:
 * the script and console errors its pages raised.
 */
export async function launchBrowser({ timezoneId = 'Europe/Berlin' } = {}) {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'kinesis-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run',
    ],
    viewport: DESKTOP,
    timezoneId,
    locale: 'en-GB',
    acceptDownloads: true,
  });
  context.setDefaultTimeout(30_000);
  // Script errors and console errors (CSP violations among them) of every page. Answers with an
  // error status are expected in some tests; the page shows those itself.
  const errors = [];
  const watch = (page) => {
    page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        errors.push(`${page.url()}: ${message.text()}`);
      }
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  const close = async () => {
    await context.close();
    await rm(userDataDir, { recursive: true, force: true });
  };
  return { context, close, errors };
}

/** Signs in through the form and waits for the page it lands on. */
export async function signIn(page, base, username, password) {
  await page.goto(`${base}/web/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await Promise.all([
    page.waitForURL((url) => url.pathname !== '/web/login'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

/** Saves a screenshot (the whole page unless `fullPage` is false) as tests/artifacts/NAME.png. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  await mkdir(ARTIFACTS, { recursive: true });
  // Let fonts and transitions settle so the picture shows what a person sees.
  await page.waitForTimeout(250);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}

/**
 * Reloads the page at phone size, waits for `ready()`, saves the first screenful as
 * tests/artifacts/NAME.png, and
 * returns by how many pixels the page is wider than the phone (0 when it fits).
 */
export async function screenshotAsPhone(page, name, ready) {
  await page.setViewportSize(PHONE);
  try {
    await page.reload();
    await ready();
    // What the phone shows without scrolling.
    await screenshot(page, name, { fullPage: false });
    return await page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));
  } finally {
    await page.setViewportSize(DESKTOP);
  }
}

/** The next time strictly after `after` whose UTC hour and minute match (and weekday, if given). */
export function nextUtc(after, { hour, minute, weekday }) {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  for (let i = 0; i < 8 * 24 * 60; i += 1) {
    if (t.getUTCHours() === hour && t.getUTCMinutes() === minute
      && (weekday === undefined || t.getUTCDay() === weekday)) return t;
    t.setUTCMinutes(t.getUTCMinutes() + 1);
  }
  throw new Error('no such time within a week');
}
