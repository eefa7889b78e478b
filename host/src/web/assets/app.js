// Shared helpers of the signed-in pages: calling the JSON API with the session cookie and the
// CSRF header, showing times (one format, in the viewer's zone, UTC on hover) and sizes, server
// messages in words, notices, confirmation and progress dialogs.

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? '';

/** The signed-in user's id: every backup endpoint wants it as `uid`. */
export const uid = Number(meta('kinesis-uid'));
const csrf = meta('kinesis-csrf');

// A page brought back from the browser's back-forward cache was drawn for a session that may have
// ended since: ask the server again, which sends a signed-out browser to the sign-in page.
window.addEventListener('pageshow', (event) => {
  if (event.persisted) window.location.reload();
});

// Set once the page is being left (signing out, following a link): a call that fails then must
// not send the browser elsewhere.
let leavingPage = false;
window.addEventListener('pagehide', () => { leavingPage = true; });
document.getElementById('sign-out')?.form?.addEventListener('submit', () => { leavingPage = true; });

/** Whether the page is being left. */
export function leaving() {
  return leavingPage;
}

/** A failed API call; `message` is the server's own words. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

async function send(method, path, { query, body, raw } = {}) {
  const url = new URL(path, window.location.origin);
  if (method === 'GET' || method === 'DELETE' || raw !== undefined) url.searchParams.set('uid', String(uid));
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
  }
  const init = { method, headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' };
  if (raw !== undefined) {
    init.headers['Content-Type'] = 'application/octet-stream';
    init.body = raw;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify({ uid, ...body });
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, 'The server could not be reached. Check that it is running and try again.');
  }
  if (response.status === 401 && leavingPage) throw new ApiError(401, 'Signing out.');
  if (response.status === 401) {
    // The session ended (signed out elsewhere, expired, a new password, the server restarted, or a
    // restore brought back another token secret).
    const here = `${window.location.pathname}${window.location.search}`;
    window.location.assign(`/web/login?expired=1&next=${encodeURIComponent(here)}`);
    throw new ApiError(401, 'Your session has ended. Please sign in again.');
  }
  return response;
}

async function errorFrom(response) {
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const json = await response.json();
    if (json && typeof json.message === 'string' && json.message) message = json.message;
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(response.status, humanize(response.status, message));
}

const RFC3339 = /\b\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)/g;

/**
 * A server message as a person reads it: times in the viewer's zone instead of UTC. The server
 * words its refusals (a running backup, a full disk, a quota) for people already, so they stay.
 */
function humanize(status, message) {
  const past = /expiry (\S+) is in the past/.exec(message);
  if (status === 400 && past) {
    return `That expiry, ${formatTime(new Date(past[1]))}, has already passed. Choose a time in the future.`;
  }
  return message.replace(RFC3339, (text) => formatTime(new Date(text)));
}

/**
 * Calls the JSON API. GET and DELETE send `query` (plus uid) as query parameters, POST and PATCH
 * send `body` (plus uid) as JSON, or `raw` (a file) as the body with uid in the query. Resolves to the parsed answer; rejects with ApiError.
 */
export async function api(method, path, options) {
  const response = await send(method, path, options);
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

// The one format of times on every page: weekday, date, time and the zone's name, in the
// viewer's zone ("Sun 30 Nov 2025, 01:00 CET"); the UTC time is in the title.
const dayFormat = new Intl.DateTimeFormat(undefined, {
  weekday: 'short', day: 'numeric', month: 'short', year: 'numeric',
});
const clockFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
});
const weekdayClockFormat = new Intl.DateTimeFormat(undefined, {
  weekday: 'long', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
});

/** The viewer's time zone, e.g. "Europe/Berlin". */
export const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'your time zone';

/** "Sun 30 Nov 2025, 01:00 CET": a time in the viewer's zone, with the zone named. */
export function formatTime(date) {
  return `${dayFormat.format(date)}, ${clockFormat.format(date)}`;
}

/** "Sunday 01:00 CET": a weekday and time in the viewer's zone. */
export function formatWeekdayTime(date) {
  return weekdayClockFormat.format(date);
}

/** "2025-11-26 12:30:00 UTC" for a title attribute. */
function utcText(date) {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * Shows an RFC 3339 time (or Date) in `element` in the viewer's zone, the date and the clock
 * time on lines of their own, with UTC in its title.
 */
export function showTime(element, value, fallback = '—') {
  if (!value) {
    element.textContent = fallback;
    element.removeAttribute('title');
    return;
  }
  const date = value instanceof Date ? value : new Date(value);
  const day = document.createElement('span');
  day.className = 'day';
  day.textContent = `${dayFormat.format(date)}, `;
  const clock = document.createElement('span');
  clock.className = 'clock';
  clock.textContent = clockFormat.format(date);
  element.replaceChildren(day, clock);
  element.title = utcText(date);
}

/** Names the viewer's zone in every `[data-zone]` and `[data-zone-note]` element of the page. */
function nameZone() {
  const short = clockFormat.formatToParts(new Date()).find((part) => part.type === 'timeZoneName')?.value;
  const named = short && short !== zone ? `${zone} (${short})` : zone;
  for (const element of document.querySelectorAll('[data-zone]')) element.textContent = `your time, ${named}`;
  for (const element of document.querySelectorAll('[data-zone-note]')) {
    element.textContent = `Times are shown in ${named}; point at a time to see it in UTC.`;
  }
}
nameZone();

/** A size in bytes for people: "1.4 MB". */
export function formatBytes(bytes) {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** The value of a datetime-local input for an RFC 3339 time (or Date), in local time. */
export function toLocalInput(value) {
  if (!value) return '';
  const date = new Date(value);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

/** Lets `input` (datetime-local) offer only times from the next minute on. */
export function blockPastDates(input) {
  input.min = toLocalInput(new Date(Date.now() + 60000));
}

/**
 * RFC 3339 (UTC) for the value of a datetime-local input, or null when it is empty. A time
 * that is not in the future is refused in words.
 */
export function fromLocalInput(value) {
  if (!value) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ApiError(400, `"${value}" is not a date and time`);
  if (date.getTime() <= Date.now()) {
    throw new ApiError(400, `${formatTime(date)} has already passed. Choose a time in the future.`);
  }
  return date.toISOString();
}

/** Calls `fn` once typing has paused for `ms` milliseconds. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/**
 * Shows a message above the page content: `kind` is ok (gone after a while), info or error (both
 * stay until dismissed). A message already shown is not shown twice: its copy moves to the top
 * and counts how often it came. Returns the message's element.
 */
export function notify(kind, text) {
  const notices = document.getElementById('notices');
  const same = [...notices.children].find((old) => old.dataset.text === text);
  if (same) {
    const times = Number(same.dataset.times ?? '1') + 1;
    same.dataset.times = String(times);
    same.querySelector('.times').textContent = ` (${times} times)`;
    notices.prepend(same);
    return same;
  }
  const box = document.createElement('div');
  box.className = `alert alert-${kind}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  box.dataset.text = text;
  const message = document.createElement('span');
  message.textContent = text;
  const times = document.createElement('span');
  times.className = 'times';
  message.append(times);
  const dismiss = document.createElement('button');
  dismiss.type = 'button';
  dismiss.className = 'dismiss';
  dismiss.setAttribute('aria-label', 'Dismiss');
  dismiss.textContent = '×';
  dismiss.addEventListener('click', () => box.remove());
  box.append(message, dismiss);
  // One success message at a time, gone after a while; errors and information stay until dismissed.
  if (kind === 'ok') notices.querySelectorAll('.alert-ok').forEach((old) => old.remove());
  notices.prepend(box);
  if (kind === 'ok') setTimeout(() => box.remove(), 8000);
  return box;
}

/** Shows `text` in a form's error line (or hides it when `text` is empty). */
export function showFormError(form, text) {
  const line = form.querySelector('.alert-error');
  line.textContent = text ?? '';
  line.hidden = !text;
}

/** Closes a dialog from each of its `data-close` buttons. */
export function wireCloseButtons(dialog) {
  for (const button of dialog.querySelectorAll('[data-close]')) {
    button.addEventListener('click', () => dialog.close());
  }
}

/**
 * Asks for confirmation in the shared dialog. Resolves true when the person confirms.
 * `danger` styles the confirm button red.
 */
export function confirmAction({ title, message, confirmLabel, danger = true, items = [] }) {
  const dialog = document.getElementById('confirm-dialog');
  dialog.querySelector('#confirm-title').textContent = title;
  dialog.querySelector('#confirm-message').textContent = message;
  const list = dialog.querySelector('#confirm-list');
  list.replaceChildren(...items.map((text) => {
    const item = document.createElement('li');
    item.textContent = text;
    return item;
  }));
  list.hidden = items.length === 0;
  const button = dialog.querySelector('#confirm-button');
  button.textContent = confirmLabel;
  button.className = `button ${danger ? 'danger' : 'primary'}`;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
  });
}

/**
 * Counts seconds in `container`'s `.elapsed` element while `work` runs; shows the container.
 * With `kind` (create, restore, verify), shows the bytes and percent of the running operation of
 * that kind in its `.progress-detail` element and its `progress.bar` (inside `barRoot`).
 */
export async function withElapsed(container, work, { kind, barRoot = container } = {}) {
  const elapsed = container.querySelector('.elapsed');
  const detail = container.querySelector('.progress-detail');
  const bar = barRoot.querySelector('progress.bar');
  const started = Date.now();
  elapsed.textContent = '0 s';
  if (detail) detail.textContent = '';
  if (bar) bar.hidden = true;
  container.hidden = false;
  const timer = setInterval(() => {
    elapsed.textContent = `${Math.round((Date.now() - started) / 1000)} s`;
  }, 500);
  const stop = kind ? followOperation(kind, (operation) => {
    const percent = percentOf(operation);
    if (detail) detail.textContent = bytesDone(operation);
    if (bar && percent !== null) {
      bar.hidden = false;
      bar.value = percent;
    }
  }) : () => {};
  try {
    return await work();
  } finally {
    stop();
    clearInterval(timer);
    container.hidden = true;
    if (bar) bar.hidden = true;
  }
}

/** Runs `work` behind the shared modal progress dialog titled `label` (see withElapsed for `kind`). */
export async function withProgressDialog(label, work, kind) {
  const dialog = document.getElementById('progress-dialog');
  dialog.querySelector('#progress-title').textContent = label;
  dialog.showModal();
  // Escape must not hide an operation that is still running.
  const keep = (event) => event.preventDefault();
  dialog.addEventListener('cancel', keep);
  try {
    return await withElapsed(dialog.querySelector('.progress'), work, { kind, barRoot: dialog });
  } finally {
    dialog.removeEventListener('cancel', keep);
    dialog.close();
  }
}

/** The percent done of an operation, or null while its size is unknown. */
export function percentOf(operation) {
  if (!operation || !operation.total) return null;
  return Math.min(100, Math.floor((operation.done / operation.total) * 100));
}

/** "45% · 12.1 MB of 27.0 MB", or "" while nothing is known. */
export function bytesDone(operation) {
  const percent = percentOf(operation);
  if (percent === null) return '';
  return `${percent}% · ${formatBytes(operation.done)} of ${formatBytes(operation.total)}`;
}

// Listeners of the running operations (set by activity.js): kind → callbacks.
const followers = new Set();

/** Calls `show(operation)` with each update of the running operation of `kind`; returns a stop. */
export function followOperation(kind, show) {
  const follower = { kind, show };
  followers.add(follower);
  document.dispatchEvent(new CustomEvent('kinesis:following'));
  return () => followers.delete(follower);
}

/** Hands the running operations to the pages' followers (called by activity.js). */
export function reportRunning(operations) {
  for (const follower of followers) {
    const operation = operations.find((op) => op.kind === follower.kind);
    if (operation) follower.show(operation);
  }
}

/** Whether some part of this page waits for an operation of its own. */
export function following() {
  return followers.size > 0;
}

/**
 * Lets Enter submit `form` from `textarea` (Ctrl+Enter or Cmd+Enter too); Shift+Enter still
 * starts a new line.
 */
export function submitOnEnter(textarea, form) {
  textarea.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    form.requestSubmit();
  });
}

/**
 * Wires Previous/Next buttons to `state.offset` in steps of `pageSize`; `load` fetches the page.
 */
export function wirePager(previousId, nextId, state, pageSize, load) {
  document.getElementById(previousId).addEventListener('click', () => {
    state.offset = Math.max(0, state.offset - pageSize);
    load();
  });
  document.getElementById(nextId).addEventListener('click', () => {
    state.offset += pageSize;
    load();
  });
}

/**
 * The form's `expiry` input as RFC 3339 (null when empty). When it is not a date, shows why in
 * the form and returns undefined.
 */
export function expiryOf(form) {
  try {
    return fromLocalInput(form.elements.namedItem('expiry').value);
  } catch (error) {
    showFormError(form, error.message);
    return undefined;
  }
}

/** Fills the `[data-field=NAME]` elements under `root` with text. */
export function fill(root, fields) {
  for (const [name, text] of Object.entries(fields)) {
    const element = root.querySelector(`[data-field="${name}"]`);
    if (element) element.textContent = text;
  }
}
