// Follows the tenant's long operations for every open page: polls GET /backup/activity (often
// while something runs, seldom otherwise), shows each running create, restore, verify or
// scheduled backup with its bytes and percent at the top of the page, tells the page when the
// backups or schedules changed (the document event `kinesis:changed`, after which it reloads its
// list), and says what the restore journal did about a restore that a server stop interrupted.
// While the server cannot be reached it says so once, in the same place, instead of piling up
// error messages.
import {
  api, bytesDone, following, formatTime, leaving, notify, percentOf, reportRunning,
} from './app.js';

const FAST_MS = 700;
const SLOW_MS = 3000;

let changes = null;
let newestFinished = null;
let timer = null;

/** What an operation does, in words. */
function subject(operation) {
  const id = operation.backup_id;
  switch (operation.kind) {
    case 'create': return 'Creating a backup';
    case 'restore': return `Restoring backup ${id}`;
    case 'verify': return `Verifying backup ${id}`;
    default: return 'A schedule is making a backup';
  }
}

function item(operation) {
  const row = document.createElement('div');
  row.className = 'activity-item';
  row.dataset.kind = operation.kind;
  const label = document.createElement('span');
  label.className = 'activity-label';
  const detail = bytesDone(operation);
  label.textContent = `${subject(operation)}… ${detail || 'starting'} · since ${formatTime(new Date(operation.started_at))}`;
  const bar = document.createElement('progress');
  bar.className = 'bar';
  bar.max = 100;
  const percent = percentOf(operation);
  if (percent !== null) bar.value = percent;
  bar.setAttribute('aria-label', subject(operation));
  row.append(label, bar);
  return row;
}

function draw(running, offline) {
  const box = document.getElementById('activity');
  if (offline) {
    const line = document.createElement('div');
    line.className = 'activity-item offline';
    line.textContent = 'The server cannot be reached. This page tries again every few seconds.';
    box.replaceChildren(line);
  } else {
    box.replaceChildren(...running.map(item));
  }
  box.hidden = box.childElementCount === 0;
}

// Kinds of operations this page lost sight of (the connection broke while it waited): their
// outcome is told when it shows up.
const awaited = new Set();

/** Asks to be told the outcome of the next operation of `kind` that finishes. */
export function awaitOutcome(kind) {
  awaited.add(kind);
}

function outcome(operation) {
  const what = operation.kind === 'restore' ? `The restore of backup ${operation.backup_id}` : 'The operation';
  if (operation.error) notify('error', `${what} did not finish: ${operation.error}`);
  else notify('ok', `${what} finished.`);
}

/** Tells about operations that finished since the last look and were not started on this page. */
function announce(finished) {
  const newest = finished[0]?.id ?? 0;
  // A restarted server counts again from 1: nothing of before is announced.
  if (newestFinished !== null && newest >= newestFinished) {
    for (const operation of finished.filter((op) => op.id > newestFinished)) {
      if (operation.kind === 'scheduled') {
        if (operation.error) notify('error', `A scheduled backup failed: ${operation.error}`);
        else notify('ok', `A schedule made backup ${operation.backup_id}.`);
      } else if (awaited.delete(operation.kind)) {
        outcome(operation);
      }
    }
  }
  newestFinished = newest;
}

function tellInterruptedRestore(text) {
  const key = `kinesis-restore-note:${text}`;
  if (!text || window.sessionStorage.getItem(key)) return;
  const box = notify('info', text);
  box.querySelector('.dismiss').addEventListener('click', () => window.sessionStorage.setItem(key, '1'));
}

let polling = false;
let pollAgain = false;

async function poll() {
  if (polling) {
    pollAgain = true;
    return;
  }
  if (leaving()) return;
  clearTimeout(timer);
  polling = true;
  let wait = SLOW_MS;
  try {
    if (!document.hidden || following()) {
      const { activity } = await api('GET', '/backup/activity');
      draw(activity.running, false);
      reportRunning(activity.running);
      announce(activity.finished);
      if (changes === null || activity.changes < changes) tellInterruptedRestore(activity.interrupted_restore);
      if (changes !== null && activity.changes !== changes) {
        document.dispatchEvent(new CustomEvent('kinesis:changed'));
      }
      changes = activity.changes;
      if (activity.running.length > 0 || following()) wait = FAST_MS;
    }
  } catch (error) {
    if (error.status === 0 && !leaving()) draw([], true);
  } finally {
    polling = false;
  }
  if (pollAgain) {
    pollAgain = false;
    poll();
    return;
  }
  timer = setTimeout(poll, wait);
}

/** Starts following the tenant's operations on this page. */
export function startActivity() {
  document.addEventListener('kinesis:following', () => { poll(); });
  document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });
  poll();
}
