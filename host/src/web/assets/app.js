// Shared helpers of the signed-in pages: calling the JSON API with the session cookie and the
// CSRF header, showing times and sizes, notices, confirmation and progress dialogs.

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? '';

/** The signed-in user's id: every backup endpoint wants it as `uid`. */
export const uid = Number(meta('kinesis-uid'));
const csrf = meta('kinesis-csrf');

// A page brought back from the browser's back-forward cache was drawn for a session that may have
// ended since: ask the server again, which sends a signed-out browser to the sign-in page.
window.addEventListener('pageshow', (event) => {
  if (event.persisted) window.location.reload();
});

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
  if (response.status === 401) {
    // The session ended (signed out elsewhere, expired, a new password, the server restarted, or a
    // restore brought back another token secret).
    window.location.assign('/web/login?expired=1');
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
  return new ApiError(response.status, message);
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

const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
});

/** "2025-11-26 12:30:00 UTC" for a title attribute. */
export function utcText(date) {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Shows an RFC 3339 time (or Date) in `element` in local time, with UTC in its title. */
export function showTime(element, value, fallback = '—') {
  if (!value) {
    element.textContent = fallback;
    element.removeAttribute('title');
    return;
  }
  const date = value instanceof Date ? value : new Date(value);
  element.textContent = timeFormat.format(date);
  element.title = utcText(date);
}

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

/** The value of a datetime-local input for an RFC 3339 time, in local time. */
export function toLocalInput(value) {
  if (!value) return '';
  const date = new Date(value);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

/** RFC 3339 (UTC) for the value of a datetime-local input, or null when it is empty. */
export function fromLocalInput(value) {
  if (!value) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ApiError(400, `"${value}" is not a date and time`);
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

/** Shows a message above the page content; errors stay until dismissed. */
export function notify(kind, text) {
  const box = document.createElement('div');
  box.className = `alert ${kind === 'error' ? 'alert-error' : 'alert-ok'}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  const message = document.createElement('span');
  message.textContent = text;
  const dismiss = document.createElement('button');
  dismiss.type = 'button';
  dismiss.className = 'dismiss';
  dismiss.setAttribute('aria-label', 'Dismiss');
  dismiss.textContent = '×';
  dismiss.addEventListener('click', () => box.remove());
  box.append(message, dismiss);
  const notices = document.getElementById('notices');
  // One success message at a time; errors stay until dismissed.
  if (kind !== 'error') notices.querySelectorAll('.alert-ok').forEach((old) => old.remove());
  notices.prepend(box);
  if (kind !== 'error') setTimeout(() => box.remove(), 8000);
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
export function confirmAction({ title, message, confirmLabel, danger = true }) {
  const dialog = document.getElementById('confirm-dialog');
  dialog.querySelector('#confirm-title').textContent = title;
  dialog.querySelector('#confirm-message').textContent = message;
  const button = dialog.querySelector('#confirm-button');
  button.textContent = confirmLabel;
  button.className = `button ${danger ? 'danger' : 'primary'}`;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
  });
}

/** Counts seconds in `container`'s `.elapsed` element while `work` runs; shows the container. */
export async function withElapsed(container, work) {
  const elapsed = container.querySelector('.elapsed');
  const started = Date.now();
  elapsed.textContent = '0 s';
  container.hidden = false;
  const timer = setInterval(() => {
    elapsed.textContent = `${Math.round((Date.now() - started) / 1000)} s`;
  }, 500);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    container.hidden = true;
  }
}

/** Runs `work` behind the shared modal progress dialog titled `label`. */
export async function withProgressDialog(label, work) {
  const dialog = document.getElementById('progress-dialog');
  dialog.querySelector('#progress-title').textContent = label;
  dialog.showModal();
  // Escape must not hide an operation that is still running.
  const keep = (event) => event.preventDefault();
  dialog.addEventListener('cancel', keep);
  try {
    return await withElapsed(dialog.querySelector('.progress'), work);
  } finally {
    dialog.removeEventListener('cancel', keep);
    dialog.close();
  }
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
