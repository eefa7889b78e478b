// The Backup Schedules page: the list, the create/edit form with its live cron preview, the
// enabled toggle and delete. The server's next_run (shown in the list after saving) is the
// authoritative one; the preview is computed here with cron.js.
import {
  api, confirmAction, fill, notify, showFormError, showTime, wireCloseButtons, wirePager,
} from './app.js';
import { CronError, describeCron, nextRuns } from './cron.js';

const PAGE_SIZE = 50;
const PREVIEW_RUNS = 5;
const CRON_INPUTS = ['minute', 'hour', 'dom', 'month', 'dow'];
const state = { offset: 0, amount: 0, schedules: [], editing: null };

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
    state.schedules = answer.schedules;
    state.amount = answer.amount;
    render();
  } catch (error) {
    notify('error', `Could not load the schedules: ${error.message}`);
  } finally {
    table.setAttribute('aria-busy', 'false');
  }
}

function render() {
  body.replaceChildren(...state.schedules.map(renderRow));
  document.getElementById('schedules-empty').hidden = state.schedules.length > 0;
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

function renderRow(schedule) {
  const row = rowTemplate.content.firstElementChild.cloneNode(true);
  row.dataset.id = String(schedule.id);
  fill(row, {
    name: schedule.name,
    cron: schedule.cron,
    words: plainWords(schedule.cron),
    expiry: schedule.expiry_hours ? `${schedule.expiry_hours} hours` : 'Never',
    enabled: schedule.enabled ? 'Enabled' : 'Disabled',
    'last-error': schedule.last_error ? `Last run failed: ${schedule.last_error}` : '',
  });
  showTime(row.querySelector('[data-field="next-run"]'), schedule.next_run,
    schedule.enabled ? '—' : 'Not while disabled');
  const toggle = row.querySelector('[data-action="toggle"]');
  toggle.checked = schedule.enabled;
  toggle.setAttribute('aria-label', `${schedule.name} enabled`);
  toggle.addEventListener('change', () => setEnabled(schedule, toggle));
  row.querySelector('[data-action="edit"]').addEventListener('click', () => openForm(schedule));
  row.querySelector('[data-action="delete"]').addEventListener('click', () => remove(schedule));
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

/** Redraws the plain-words preview and the next run times; marks the field that is wrong. */
function updatePreview() {
  const words = document.getElementById('cron-words');
  const list = document.getElementById('cron-next');
  for (const name of CRON_INPUTS) field(name).removeAttribute('aria-invalid');
  try {
    if (CRON_INPUTS.some((name) => field(name).value.trim() === '')) {
      throw new CronError('Fill in all five fields (use * for "every").');
    }
    words.textContent = describeCron(cronFromInputs());
    words.classList.remove('invalid');
    const runs = nextRuns(cronFromInputs(), new Date(), PREVIEW_RUNS);
    list.replaceChildren(...runs.map((run) => {
      const item = document.createElement('li');
      showTime(item, run);
      return item;
    }));
    document.getElementById('cron-next-label').textContent = runs.length
      ? 'Next runs, in your local time:' : 'This never runs: no such date exists.';
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
    const parts = schedule.cron.trim().split(/\s+/);
    CRON_INPUTS.forEach((name, i) => { field(name).value = parts[i] ?? ''; });
    field('expiry_hours').value = schedule.expiry_hours ?? '';
    field('enabled').checked = schedule.enabled;
  }
  updatePreview();
  dialog.showModal();
}

function formValues() {
  const name = field('name').value.trim();
  if (!name) throw new Error('Give the schedule a name.');
  const hoursText = field('expiry_hours').value.trim();
  const hours = hoursText === '' ? null : Number(hoursText);
  if (hours !== null && (!Number.isInteger(hours) || hours < 1)) {
    throw new Error('Expiry must be a whole number of hours, at least 1, or empty to keep backups.');
  }
  const cron = cronFromInputs();
  try {
    describeCron(cron);
  } catch (error) {
    throw new Error(`The schedule is not valid: ${error.message}.`);
  }
  return { name, cron, expiry_hours: hours, enabled: field('enabled').checked };
}

form.addEventListener('input', (event) => {
  if (CRON_INPUTS.includes(event.target.name)) updatePreview();
});

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
      ? ` Next run: ${new Date(answer.schedule.next_run).toLocaleString()}.` : '';
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
wirePager('schedules-prev', 'schedules-next', state, PAGE_SIZE, load);

load();
