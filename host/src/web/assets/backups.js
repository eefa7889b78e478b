// The Backups page: the table with search and pages, the create dialog, uploads, per-row
// description, expiry, download, verify, restore, delete and offsite retry, and bulk delete.
// Everything goes through the JSON API; the list reloads by itself when the backups change
// elsewhere (a schedule, another page).
import {
  api, blockPastDates, confirmAction, debounce, expiryOf, fill, formatBytes, formatTime, notify,
  showFormError, showTime, submitOnEnter, toLocalInput, uid, wireCloseButtons, wirePager, withElapsed,
  withProgressDialog,
} from './app.js';
import { awaitOutcome, startActivity } from './activity.js';

const PAGE_SIZE = 20;
/** Names listed in the bulk delete question before "and N more". */
const LISTED = 12;
const state = {
  filter: '', offset: 0, amount: 0, backups: [], selected: new Map(), highlight: new Set(),
  seen: new Set(), schedules: new Map(), drawn: '', markNew: false,
};

const table = document.getElementById('backups-table');
const body = document.getElementById('backups-body');
const rowTemplate = document.getElementById('backup-row');
const search = document.getElementById('search');
const selectAll = document.getElementById('select-all');
const bulkDelete = document.getElementById('bulk-delete');

let loadCounter = 0;

/** Fetches the current page and draws it; a newer load makes older answers irrelevant. */
async function load() {
  const ticket = ++loadCounter;
  table.setAttribute('aria-busy', 'true');
  try {
    const answer = await api('GET', '/backup/fetch', {
      query: { limit: PAGE_SIZE, offset: state.offset, filter: state.filter },
    });
    if (ticket !== loadCounter) return;
    // Nothing new: the rows stay as they are (and keep focus and what is being clicked).
    const drawn = JSON.stringify([state.filter, state.offset, answer.amount, answer.backups, [...state.schedules]]);
    if (drawn === state.drawn) return;
    state.drawn = drawn;
    state.backups = answer.backups;
    state.amount = answer.amount;
    // A deleted or filtered-out page: step back to the last page that has backups.
    if (state.backups.length === 0 && state.offset > 0 && state.amount > 0) {
      state.offset = Math.floor((state.amount - 1) / PAGE_SIZE) * PAGE_SIZE;
      await load();
      return;
    }
    // Backups that arrived since the last look (a schedule's, another page's) are marked.
    if (state.markNew) {
      for (const backup of state.backups) if (!state.seen.has(backup.id)) state.highlight.add(backup.id);
    }
    state.markNew = false;
    for (const backup of state.backups) state.seen.add(backup.id);
    render();
  } catch (error) {
    if (ticket === loadCounter) notify('error', `Could not load the backups: ${error.message}`);
  } finally {
    if (ticket === loadCounter) {
      table.setAttribute('aria-busy', 'false');
      document.getElementById('backups-loading').hidden = true;
    }
  }
}

/** The schedules' names by id, to mark the backups they made. */
async function loadSchedules() {
  try {
    const answer = await api('GET', '/backup/schedule/fetch', { query: { limit: 1000, offset: 0 } });
    state.schedules = new Map(answer.schedules.map((schedule) => [schedule.id, schedule.name]));
  } catch {
    // The backups show without their schedules' names.
  }
}

function render() {
  body.replaceChildren(...state.backups.map(renderRow));
  // The offsite column only when there is something to say in it (a target is configured).
  table.classList.toggle('no-offsite', state.backups.every((b) => b.offsite === 'none' && b.local !== false));
  const none = state.backups.length === 0;
  const empty = document.getElementById('backups-empty');
  empty.hidden = !none;
  table.hidden = none;
  document.getElementById('backups-pager').hidden = none;
  document.getElementById('backups-empty-title').textContent = state.filter
    ? `No backup matches “${state.filter}”.` : 'No backups yet';
  document.getElementById('backups-empty-text').textContent = state.filter
    ? 'Try fewer or other words; the search looks at names and descriptions.'
    : 'A backup keeps a copy of the database, public files, translations and settings that you can restore later.';
  document.getElementById('empty-create').hidden = Boolean(state.filter);
  const first = state.offset + 1;
  const last = state.offset + state.backups.length;
  document.getElementById('page-info').textContent =
    `Showing ${first}–${last} of ${state.amount} backup${state.amount === 1 ? '' : 's'}`;
  const pages = Math.max(1, Math.ceil(state.amount / PAGE_SIZE));
  document.getElementById('page-number').textContent =
    `Page ${Math.floor(state.offset / PAGE_SIZE) + 1} of ${pages}`;
  document.getElementById('prev-page').disabled = state.offset === 0;
  document.getElementById('next-page').disabled = last >= state.amount;
  updateSelection();
}

function renderRow(backup) {
  const row = rowTemplate.content.firstElementChild.cloneNode(true);
  row.dataset.id = String(backup.id);
  fill(row, {
    name: backup.name,
    description: backup.description || 'No description',
    size: formatBytes(backup.size),
  });
  const name = row.querySelector('[data-field="name"]');
  name.title = backup.name;
  const description = row.querySelector('[data-field="description"]');
  description.title = backup.description;
  description.classList.toggle('muted', !backup.description);
  if (!backup.description) description.removeAttribute('tabindex');
  row.querySelector('[data-field="size"]').title = `${backup.size} bytes · SHA-256 ${backup.sha256}`;
  showOffsite(row, backup);
  if (backup.schedule_id !== null) {
    const badge = row.querySelector('[data-field="schedule"]');
    const scheduleName = state.schedules.get(backup.schedule_id);
    badge.hidden = false;
    badge.textContent = 'Scheduled';
    badge.title = scheduleName
      ? `Made by the schedule “${scheduleName}”` : `Made by schedule ${backup.schedule_id} (since deleted)`;
  }
  showTime(row.querySelector('[data-field="created"]'), backup.created_at);
  showTime(row.querySelector('[data-field="expiry"]'), backup.expiry, 'Never');
  const checkbox = row.querySelector('.row-select');
  checkbox.checked = state.selected.has(backup.id);
  checkbox.setAttribute('aria-label', `Select ${backup.name}`);
  row.classList.toggle('selected', checkbox.checked);
  checkbox.addEventListener('change', () => {
    if (checkbox.checked) state.selected.set(backup.id, backup);
    else state.selected.delete(backup.id);
    row.classList.toggle('selected', checkbox.checked);
    updateSelection();
  });
  // A plain link: the browser streams the archive to disk (see web/download.rs).
  const downloadLink = row.querySelector('[data-field="download"]');
  downloadLink.href = `/web/backups/download?id=${encodeURIComponent(backup.id)}`;
  downloadLink.download = backup.name;
  for (const element of row.querySelectorAll('[data-action]')) {
    element.setAttribute('aria-label', `${element.textContent.trim()} ${backup.name}`);
    element.addEventListener('click', (event) => {
      event.preventDefault();
      rowActions[element.dataset.action](backup);
    });
  }
  downloadLink.setAttribute('aria-label', `Download ${backup.name}`);
  if (state.highlight.delete(backup.id)) row.classList.add('fresh');
  return row;
}

function updateSelection() {
  const onPage = state.backups.map((b) => b.id);
  const selectedOnPage = onPage.filter((id) => state.selected.has(id)).length;
  selectAll.checked = onPage.length > 0 && selectedOnPage === onPage.length;
  selectAll.indeterminate = selectedOnPage > 0 && selectedOnPage < onPage.length;
  const count = state.selected.size;
  const elsewhere = count - selectedOnPage;
  bulkDelete.disabled = count === 0;
  document.getElementById('selection-count').textContent = count
    ? `${count} selected${elsewhere ? ` (${elsewhere} on other pages)` : ''}` : '';
}

/** What each row button does. */
const rowActions = {
  description: openDescription,
  expiry: openExpiry,
  verify,
  restore,
  delete: remove,
  'retry-offsite': retryOffsite,
};

// ----- offsite copies and uploads

const OFFSITE_WORDS = { none: '—', pending: 'Pending', copied: 'Copied', failed: 'Failed' };

/** The offsite cell: the state, why it failed, a retry button, and whether only the bucket has it. */
function showOffsite(row, backup) {
  const cell = row.querySelector('[data-field="offsite"]');
  const words = OFFSITE_WORDS[backup.offsite] ?? backup.offsite;
  cell.textContent = backup.local === false ? `${words} (offsite only)` : words;
  cell.title = backup.offsite_reason ?? (backup.local === false ? 'Fetched from offsite storage on restore or download' : '');
  cell.dataset.state = backup.offsite;
  row.querySelector('[data-action="retry-offsite"]').hidden = backup.offsite !== 'failed';
  for (const action of ['description', 'expiry']) {
    row.querySelector(`[data-action="${action}"]`).hidden = backup.local === false;
  }
}

async function retryOffsite(backup) {
  try {
    await api('POST', '/backup/offsite/retry', { body: { id: backup.id } });
    notify('ok', `The offsite copy of ${backup.name} is being made again.`);
  } catch (error) {
    notify('error', `Could not retry the offsite copy of ${backup.name}: ${error.message}`);
  }
  await load();
}

const uploadFile = document.getElementById('upload-file');
uploadFile.addEventListener('change', async () => {
  const file = uploadFile.files[0];
  uploadFile.value = '';
  if (!file) return;
  try {
    const answer = await withProgressDialog(`Uploading and checking ${file.name}…`,
      () => api('POST', '/backup/upload', { query: { name: file.name }, raw: file }));
    state.offset = 0;
    state.highlight.add(answer.backup.id);
    notify('ok', `${file.name} was checked and added as ${answer.backup.name}.`);
  } catch (error) {
    notify('error', `${file.name} was not added: ${error.message}`);
  }
  await load();
});

// ----- create

const createDialog = document.getElementById('create-dialog');
const createForm = document.getElementById('create-form');
let creating = false;

function openCreate() {
  createForm.reset();
  showFormError(createForm, '');
  blockPastDates(createForm.elements.namedItem('expiry'));
  createDialog.showModal();
}

document.getElementById('create-open').addEventListener('click', openCreate);
document.getElementById('empty-create').addEventListener('click', openCreate);
wireCloseButtons(createDialog);
createDialog.addEventListener('cancel', (event) => {
  if (creating) event.preventDefault();
});
submitOnEnter(createForm.elements.namedItem('description'), createForm);

createForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (creating) return;
  showFormError(createForm, '');
  const expiry = expiryOf(createForm);
  if (expiry === undefined) return;
  const description = createForm.elements.namedItem('description').value.trim();
  const controls = createForm.querySelectorAll('button, textarea, input');
  creating = true;
  controls.forEach((c) => { c.disabled = true; });
  try {
    const backup = await withElapsed(document.getElementById('create-progress'), async () => {
      const answer = await api('POST', '/backup/create', { body: { backup: { description, expiry } } });
      // Show the first page unfiltered, so the new backup is in view, before closing.
      search.value = '';
      state.filter = '';
      state.offset = 0;
      state.highlight.add(answer.backup.id);
      await load();
      return answer.backup;
    }, { kind: 'create' });
    createDialog.close();
    notify('ok', `Backup ${backup.name} created (${formatBytes(backup.size)}).`);
  } catch (error) {
    showFormError(createForm, `The backup was not created: ${error.message}`);
  } finally {
    creating = false;
    controls.forEach((c) => { c.disabled = false; });
  }
});

// ----- description and expiry

const descriptionDialog = document.getElementById('description-dialog');
const descriptionForm = document.getElementById('description-form');
const expiryDialog = document.getElementById('expiry-dialog');
const expiryForm = document.getElementById('expiry-form');
let editing = null;
wireCloseButtons(descriptionDialog);
wireCloseButtons(expiryDialog);
submitOnEnter(descriptionForm.elements.namedItem('description'), descriptionForm);

function openDescription(backup) {
  editing = backup;
  fill(descriptionForm, { name: backup.name });
  descriptionForm.elements.namedItem('description').value = backup.description;
  showFormError(descriptionForm, '');
  descriptionDialog.showModal();
}

function openExpiry(backup) {
  editing = backup;
  fill(expiryForm, { name: backup.name });
  const input = expiryForm.elements.namedItem('expiry');
  input.value = toLocalInput(backup.expiry);
  blockPastDates(input);
  expiryForm.querySelector('.clear-expiry').hidden = !backup.expiry;
  showFormError(expiryForm, '');
  expiryDialog.showModal();
}

/** Sends one PATCH from a small form; shows the server's error in the form or closes it. */
async function patchFrom(form, dialog, path, body, done) {
  showFormError(form, '');
  const buttons = form.querySelectorAll('button');
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await api('PATCH', path, { body: { id: editing.id, ...body } });
    dialog.close();
    notify('ok', done);
    await load();
  } catch (error) {
    showFormError(form, error.message);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

descriptionForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const description = descriptionForm.elements.namedItem('description').value.trim();
  patchFrom(descriptionForm, descriptionDialog, '/backup/update/description', { description },
    `The description of ${editing.name} was saved.`);
});

expiryForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const expiry = expiryOf(expiryForm);
  if (expiry === undefined) return;
  if (expiry === null) {
    showFormError(expiryForm, 'Choose a date and time, or remove the expiry to keep the backup.');
    return;
  }
  patchFrom(expiryForm, expiryDialog, '/backup/update/expiry', { expiry },
    `${editing.name} now expires ${formatTime(new Date(expiry))}.`);
});

expiryForm.querySelector('[data-action="clear-expiry"]').addEventListener('click', () => {
  patchFrom(expiryForm, expiryDialog, '/backup/update/expiry', { expiry: null },
    `${editing.name} no longer expires.`);
});

// ----- verify, restore, delete

async function verify(backup) {
  try {
    const answer = await withProgressDialog(`Verifying ${backup.name}…`,
      () => api('GET', '/backup/verify', { query: { id: backup.id } }), 'verify');
    const report = answer.verify;
    if (report.ok) {
      notify('ok', `${backup.name} is intact: ${report.files_checked} files, ${formatBytes(report.bytes_checked)} checked.`);
    } else {
      notify('error', `${backup.name} is damaged: ${report.problems.join('; ')}`);
    }
  } catch (error) {
    notify('error', `Could not verify ${backup.name}: ${error.message}`);
  }
}

async function restore(backup) {
  const confirmed = await confirmAction({
    title: `Restore ${backup.name}?`,
    message: 'This replaces ALL current data — the database, public files, translations and '
      + `settings — with what this backup holds from ${formatTime(new Date(backup.created_at))}.\n`
      + 'Everything changed since then is lost. Other backups are kept.',
    confirmLabel: 'Restore and replace all data',
  });
  if (!confirmed) return;
  try {
    const answer = await withProgressDialog(`Restoring ${backup.name}…`,
      () => api('GET', '/backup/restore', { query: { id: backup.id } }), 'restore');
    const report = answer.restore;
    notify('ok', `Restored ${backup.name}: ${report.files} files, ${formatBytes(report.bytes)}.`);
  } catch (error) {
    if (error.status === 0) {
      awaitOutcome('restore');
      notify('error', `The connection to the server was lost while restoring ${backup.name}. The restore journal `
        + 'leaves the data either exactly as before or exactly as the backup, never a mix; when the server '
        + 'answers again, this page says which.');
    } else {
      const unchanged = [409, 404, 422, 507].includes(error.status) ? ' Nothing was changed.' : '';
      notify('error', `Could not restore ${backup.name}: ${error.message}${unchanged}`);
    }
  }
  await load();
}

async function remove(backup) {
  const confirmed = await confirmAction({
    title: `Delete ${backup.name}?`,
    message: `${backup.description ? `“${backup.description}”\n` : ''}The archive is deleted for good. This cannot be undone.`,
    confirmLabel: 'Delete backup',
  });
  if (!confirmed) return;
  try {
    await api('DELETE', '/backup/delete', { query: { id: backup.id } });
    state.selected.delete(backup.id);
    notify('ok', `Deleted ${backup.name}.`);
  } catch (error) {
    notify('error', `Could not delete ${backup.name}: ${error.message}`);
  }
  await load();
}

/** "backup-….tar.gz — description, made Sun 30 Nov 2025, 01:00 CET" for the bulk delete list. */
function listed(backup) {
  const description = backup.description ? ` — ${backup.description}` : '';
  return `${backup.name}${description}`;
}

bulkDelete.addEventListener('click', async () => {
  const chosen = [...state.selected.values()];
  const ids = chosen.map((backup) => backup.id);
  const onPage = new Set(state.backups.map((b) => b.id));
  const elsewhere = ids.filter((id) => !onPage.has(id)).length;
  const items = chosen.slice(0, LISTED).map(listed);
  if (chosen.length > LISTED) items.push(`and ${chosen.length - LISTED} more`);
  const plural = ids.length === 1 ? '' : 's';
  const confirmed = await confirmAction({
    title: `Delete ${ids.length} backup${plural}?`,
    message: `These archives are deleted for good. This cannot be undone.${
      elsewhere ? `\n${elsewhere} of them ${elsewhere === 1 ? 'is' : 'are'} on other pages of the list.` : ''}`,
    confirmLabel: `Delete ${ids.length} backup${plural}`,
    items,
  });
  if (!confirmed) return;
  try {
    const answer = await withProgressDialog(`Deleting ${ids.length} backup${plural}…`,
      () => api('POST', '/backup/delete/bulk', { body: { ids } }));
    const kept = new Map(state.selected);
    state.selected.clear();
    if (answer.deleted.length) notify('ok', `Deleted ${answer.deleted.length} backup${answer.deleted.length === 1 ? '' : 's'}.`);
    for (const failure of answer.failed) {
      const name = kept.get(failure.id)?.name ?? `Backup ${failure.id}`;
      notify('error', `${name} was not deleted: ${failure.reason}`);
      if (kept.has(failure.id)) state.selected.set(failure.id, kept.get(failure.id));
    }
  } catch (error) {
    notify('error', `Could not delete the selected backups: ${error.message}`);
  }
  await load();
});

// ----- search, pages, select all

search.addEventListener('input', debounce(() => {
  state.filter = search.value.trim();
  state.offset = 0;
  load();
}, 250));

wirePager('prev-page', 'next-page', state, PAGE_SIZE, load);

selectAll.addEventListener('change', () => {
  for (const backup of state.backups) {
    if (selectAll.checked) state.selected.set(backup.id, backup);
    else state.selected.delete(backup.id);
  }
  render();
});

// The backups or schedules changed elsewhere: a schedule made a backup, another page deleted one.
document.addEventListener('kinesis:changed', async () => {
  await loadSchedules();
  state.markNew = true;
  await load();
});

if (Number.isFinite(uid) && uid > 0) {
  loadSchedules().then(load);
  startActivity();
}
