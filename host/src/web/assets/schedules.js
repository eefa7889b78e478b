// The Backup Schedules page: the list (with each schedule's last run and its result), the
// create/edit form with presets, a whole-expression field that takes a pasted cron, its five
// boxes and the live preview, the enabled toggle and delete. The server's next_run (shown in the
// list after saving) is the authoritative one; the preview is computed here with cron.js. The
// list reloads by itself when a schedule runs or changes elsewhere.
import {
  api, confirmAction, fill, formatTime, formatWeekdayTime, notify, showFormError, showTime, wireCloseButtons,
  wirePager, zone,
} from './app.js';
import { startActivity } from './activity.js';
import { CronError, describeCron, nextRuns } from './cron.js';

const PAGE_SIZE = 50;
const PREVIEW_RUNS = 5;
const CRON_INPUTS = ['minute', 'hour', 'dom', 'month', 'dow'];
const MACROS = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};
const state = { offset: 0, amount: 0, schedules: [], editing: null, loaded: false };

const table = document.getElementById('schedules-table');
const body = document.getElementById('schedules-body');
const rowTemplate = document.getElementById('schedule-row');
const dialog = document.getElementById('schedule-dialog');
const form = document.getElementById('schedule-form');

async function load() {
  table.setAttribute('aria-busy', 'true');
  try {
    const answer = await api('GET', '/backup/schedule/fetch', {
      query: { limit: PAGE_SIZE, offset: state.offset },
    });
    const same = state.loaded && answer.amount === state.amount
      && JSON.stringify(answer.schedules) === JSON.stringify(state.schedules);
    state.loaded = true;
    if (same) return;
    state.schedules = answer.schedules;
    state.amount = answer.amount;
    render();
  } catch (error) {
    notify('error', `Could not load the schedules: ${error.message}`);
  } finally {
    table.setAttribute('aria-busy', 'false');
    document.getElementById('schedules-loading').hidden = true;
  }
}

function render() {
  body.replaceChildren(...state.schedules.map(renderRow));
  const none = state.schedules.length === 0;
  document.getElementById('schedules-empty').hidden = !none;
  table.hidden = none;
  document.getElementById('schedules-pager').hidden = none;
  const last = state.offset + state.schedules.length;
  document.getElementById('schedules-info').textContent =
    `${state.amount} schedule${state.amount === 1 ? '' : 's'}`;
  document.getElementById('schedules-prev').disabled = state.offset === 0;
  document.getElementById('schedules-next').disabled = last >= state.amount;
}

function plainWords(cron) {
  try {
    return describeCron(cron);
  } catch (error) {
    return error.message;
  }
}

/**
 * When a schedule runs, in the viewer's zone: "In Europe/Berlin: Sunday 01:00 CET" for a fixed
 * time (the weekday only when the cron names days of the week), else "".
 */
function localWords(cron) {
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 5 || !/^\d+$/.test(parts[0]) || !/^\d+$/.test(parts[1])) return '';
  let next;
  try {
    [next] = nextRuns(cron, new Date(), 1);
  } catch {
    return '';
  }
  if (!next) return '';
  const weekly = parts[4] !== '*' && parts[2] === '*';
  const text = weekly ? formatWeekdayTime(next)
    : new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(next);
  return `In your time (${zone}): ${weekly ? '' : 'at '}${text}`;
}

/** "7 days", "1 day", "36 hours": whole days as days. */
function hoursInWords(hours) {
  const unit = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return hours % 24 === 0 ? unit(hours / 24, 'day') : unit(hours, 'hour');
}

function renderRow(schedule) {
  const row = rowTemplate.content.firstElementChild.cloneNode(true);
  row.dataset.id = String(schedule.id);
  fill(row, {
    name: schedule.name,
    cron: schedule.cron,
    words: plainWords(schedule.cron),
    'local-words': localWords(schedule.cron),
    expiry: schedule.expiry_hours ? hoursInWords(schedule.expiry_hours) : 'Never',
    enabled: schedule.enabled ? 'Enabled' : 'Disabled',
  });
  if (schedule.expiry_hours) row.querySelector('[data-field="expiry"]').title = `${schedule.expiry_hours} hours`;
  showTime(row.querySelector('[data-field="next-run"]'), schedule.next_run,
    schedule.enabled ? '—' : 'Not while disabled');
  showTime(row.querySelector('[data-field="last-run"]'), schedule.last_run, 'Not yet');
  const result = row.querySelector('[data-field="last-result"]');
  if (schedule.last_error) {
    result.textContent = `Failed: ${schedule.last_error}`;
    result.className = 'small error-text';
  } else if (schedule.last_run) {
    result.textContent = 'Succeeded';
    result.className = 'small ok-text';
  }
  const toggle = row.querySelector('[data-action="toggle"]');
  toggle.checked = schedule.enabled;
  toggle.setAttribute('aria-label', `${schedule.name} enabled`);
  toggle.addEventListener('change', () => setEnabled(schedule, toggle));
  const edit = row.querySelector('[data-action="edit"]');
  edit.setAttribute('aria-label', `Edit ${schedule.name}`);
  edit.addEventListener('click', () => openForm(schedule));
  const remover = row.querySelector('[data-action="delete"]');
  remover.setAttribute('aria-label', `Delete ${schedule.name}`);
  remover.addEventListener('click', () => remove(schedule));
  return row;
}

async function setEnabled(schedule, toggle) {
  toggle.disabled = true;
  try {
    await api('PATCH', '/backup/schedule/update', {
      body: { id: schedule.id, schedule: { enabled: toggle.checked } },
    });
    notify('ok', `${schedule.name} is now ${toggle.checked ? 'enabled' : 'disabled'}.`);
  } catch (error) {
    notify('error', `Could not change ${schedule.name}: ${error.message}`);
  }
  await load();
}

async function remove(schedule) {
  const confirmed = await confirmAction({
    title: `Delete the schedule ${schedule.name}?`,
    message: 'It will make no more backups. Backups it already made are kept.',
    confirmLabel: 'Delete schedule',
  });
  if (!confirmed) return;
  try {
    await api('DELETE', '/backup/schedule/delete', { query: { id: schedule.id } });
    notify('ok', `Deleted the schedule ${schedule.name}.`);
  } catch (error) {
    notify('error', `Could not delete ${schedule.name}: ${error.message}`);
  }
  await load();
}

// ----- the form

/** A control of the form by name (`form.name` would be the form's own name attribute). */
const field = (name) => form.elements.namedItem(name);

function cronFromInputs() {
  return CRON_INPUTS.map((name) => field(name).value.trim()).join(' ');
}

/** The five fields of a whole expression (or a macro), or null when it is not one. */
function splitCron(text) {
  const trimmed = text.trim();
  const expanded = MACROS[trimmed.toLowerCase()] ?? trimmed;
  const parts = expanded.split(/\s+/);
  return parts.length === 5 ? parts : null;
}

/** Puts five fields in the five boxes and the whole-expression field. */
function setCron(parts) {
  CRON_INPUTS.forEach((name, i) => { field(name).value = parts[i] ?? ''; });
  field('cron').value = parts.join(' ');
  updatePreview();
}

/** Redraws the plain-words preview and the next run times; marks the field that is wrong. */
function updatePreview() {
  const words = document.getElementById('cron-words');
  const list = document.getElementById('cron-next');
  const local = document.getElementById('cron-local-words');
  for (const name of [...CRON_INPUTS, 'cron']) field(name).removeAttribute('aria-invalid');
  local.textContent = '';
  try {
    if (CRON_INPUTS.some((name) => field(name).value.trim() === '')) {
      throw new CronError('Fill in all five fields (use * for "every").');
    }
    words.textContent = describeCron(cronFromInputs());
    words.classList.remove('invalid');
    local.textContent = localWords(cronFromInputs());
    const runs = nextRuns(cronFromInputs(), new Date(), PREVIEW_RUNS);
    list.replaceChildren(...runs.map((run) => {
      const item = document.createElement('li');
      showTime(item, run);
      return item;
    }));
    document.getElementById('cron-next-label').textContent = runs.length
      ? `Next runs, in your time (${zone}):` : 'This never runs: no such date exists.';
  } catch (error) {
    if (!(error instanceof CronError)) throw error;
    words.textContent = error.message;
    words.classList.add('invalid');
    list.replaceChildren();
    document.getElementById('cron-next-label').textContent = '';
    const wrong = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week']
      .findIndex((label) => error.message.startsWith(label));
    if (wrong >= 0) field(CRON_INPUTS[wrong]).setAttribute('aria-invalid', 'true');
  }
}

function openForm(schedule) {
  state.editing = schedule;
  form.reset();
  showFormError(form, '');
  document.getElementById('schedule-title').textContent =
    schedule ? `Edit ${schedule.name}` : 'New schedule';
  if (schedule) {
    field('name').value = schedule.name;
    setCron(schedule.cron.trim().split(/\s+/));
    const hours = schedule.expiry_hours;
    const unit = hours && hours % 24 === 0 ? 24 : 1;
    field('expiry_amount').value = hours ? String(hours / unit) : '';
    field('expiry_unit').value = String(unit);
    field('enabled').checked = schedule.enabled;
  } else {
    field('cron').value = cronFromInputs();
  }
  updatePreview();
  dialog.showModal();
}

function formValues() {
  const name = field('name').value.trim();
  if (!name) throw new Error('Give the schedule a name.');
  const amountText = field('expiry_amount').value.trim();
  const amount = amountText === '' ? null : Number(amountText);
  if (amount !== null && (!Number.isInteger(amount) || amount < 1)) {
    throw new Error('Expiry must be a whole number, at least 1, or empty to keep backups.');
  }
  const hours = amount === null ? null : amount * Number(field('expiry_unit').value);
  const cron = cronFromInputs();
  try {
    describeCron(cron);
  } catch (error) {
    throw new Error(`The schedule is not valid: ${error.message}.`);
  }
  return { name, cron, expiry_hours: hours, enabled: field('enabled').checked };
}

form.addEventListener('input', (event) => {
  if (CRON_INPUTS.includes(event.target.name)) {
    field('cron').value = cronFromInputs();
    updatePreview();
  } else if (event.target.name === 'cron') {
    const parts = splitCron(event.target.value);
    if (parts) {
      CRON_INPUTS.forEach((name, i) => { field(name).value = parts[i]; });
      updatePreview();
    } else {
      const words = document.getElementById('cron-words');
      words.textContent = 'A cron expression has five fields: minute hour day-of-month month day-of-week.';
      words.classList.add('invalid');
      field('cron').setAttribute('aria-invalid', 'true');
    }
  }
});

// A whole expression pasted into one of the five boxes fills all five.
for (const name of CRON_INPUTS) {
  field(name).addEventListener('paste', (event) => {
    const parts = splitCron(event.clipboardData?.getData('text') ?? '');
    if (!parts) return;
    event.preventDefault();
    setCron(parts);
  });
}

for (const button of form.querySelectorAll('[data-preset]')) {
  button.addEventListener('click', () => setCron(button.dataset.preset.split(' ')));
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  showFormError(form, '');
  let schedule;
  try {
    schedule = formValues();
  } catch (error) {
    showFormError(form, error.message);
    return;
  }
  const buttons = form.querySelectorAll('button');
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const answer = state.editing
      ? await api('PATCH', '/backup/schedule/update', { body: { id: state.editing.id, schedule } })
      : await api('POST', '/backup/schedule/create', { body: { schedule } });
    dialog.close();
    const next = answer.schedule.next_run
      ? ` Next run: ${formatTime(new Date(answer.schedule.next_run))}.` : '';
    notify('ok', `Saved the schedule ${answer.schedule.name}.${next}`);
    await load();
  } catch (error) {
    showFormError(form, error.message);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
});

wireCloseButtons(dialog);
document.getElementById('schedule-new').addEventListener('click', () => openForm(null));
document.getElementById('empty-new').addEventListener('click', () => openForm(null));
wirePager('schedules-prev', 'schedules-next', state, PAGE_SIZE, load);
// A schedule ran (its last run changed) or another page changed the schedules.
document.addEventListener('kinesis:changed', load);

load();
startActivity();
