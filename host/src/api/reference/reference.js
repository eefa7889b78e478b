// The API reference page: reads /openapi.json and shows every endpoint grouped by tag, with its
// parameters, request body, answers and their fields, and a form to send it with a token (or a
// sign-in made here). Everything it loads comes from this server.

const main = document.getElementById('main');
const toc = document.getElementById('toc');
const tokenInput = document.getElementById('token');
const uidInput = document.getElementById('uid');

/** Makes an element with `className` and text or children. */
function make(tag, className, ...children) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  for (const child of children) element.append(child);
  return element;
}

/** Follows a local `$ref`. */
function resolve(doc, schema) {
  let current = schema ?? {};
  for (let i = 0; i < 20 && current.$ref; i += 1) {
    current = current.$ref.replace(/^#\//, '').split('/').reduce((node, key) => node?.[key], doc) ?? {};
  }
  return current;
}

/** "string (date-time) or null", "Backup", "list of integer". */
function typeName(doc, schema) {
  if (!schema) return 'any';
  if (schema.$ref) return schema.$ref.split('/').pop();
  for (const key of ['oneOf', 'anyOf']) {
    if (schema[key]) return schema[key].map((part) => typeName(doc, part)).join(' or ');
  }
  const types = [].concat(schema.type ?? []);
  if (types.length === 0) return schema.enum ? schema.enum.map((v) => JSON.stringify(v)).join(' | ') : 'any';
  return types.map((type) => {
    if (type === 'array') return `list of ${typeName(doc, schema.items)}`;
    if (type === 'string' && schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
    return schema.format && type !== 'null' ? `${type} (${schema.format})` : type;
  }).join(' or ');
}

/** The fields of an object schema as a nested list (objects it refers to, one level down). */
function fields(doc, schema, depth = 0) {
  const resolved = resolve(doc, schema);
  const properties = resolved.properties ?? {};
  const required = new Set(resolved.required ?? []);
  const list = make('ul', 'schema');
  for (const [name, field] of Object.entries(properties)) {
    const item = make('li', '', make('code', '', name), ' ', make('span', 'type', typeName(doc, field)));
    if (required.has(name)) item.append(' ', make('span', 'req', 'required'));
    const description = field.description ?? resolve(doc, field).description;
    if (description) item.append(make('span', 'muted', ` — ${description}`));
    const inner = resolve(doc, field.items ?? field.oneOf?.find((part) => part.$ref) ?? field);
    if (depth < 2 && inner.properties && inner !== resolved) item.append(fields(doc, inner, depth + 1));
    list.append(item);
  }
  return list;
}

/** An example value of a schema, for the body of a try. */
function example(doc, schema, depth = 0) {
  const resolved = resolve(doc, schema);
  if (depth > 4) return null;
  if (resolved.oneOf) return example(doc, resolved.oneOf.find((part) => part.type !== 'null') ?? {}, depth + 1);
  const type = [].concat(resolved.type ?? []).find((t) => t !== 'null');
  if (resolved.enum) return resolved.enum[0];
  switch (type) {
    case 'object': {
      const value = {};
      for (const name of resolved.required ?? Object.keys(resolved.properties ?? {})) {
        value[name] = name === 'uid' ? Number(uidInput.value) || 1 : example(doc, resolved.properties?.[name], depth + 1);
      }
      return value;
    }
    case 'array': return [example(doc, resolved.items, depth + 1)];
    case 'integer': return 1;
    case 'number': return 1;
    case 'boolean': return true;
    case 'string': return resolved.format === 'date-time' ? new Date(Date.now() + 86400000).toISOString().slice(0, 19) + 'Z' : '';
    default: return null;
  }
}

/** The form that sends one operation and shows the answer. */
function tryForm(doc, method, path, operation) {
  const form = make('form', 'try');
  const parameters = operation.parameters ?? [];
  const inputs = make('div', 'fields');
  for (const parameter of parameters) {
    const input = make('input');
    input.name = parameter.name;
    input.value = parameter.name === 'uid' ? uidInput.value : (parameter.in === 'query' && parameter.name === 'limit' ? '20' : (parameter.name === 'offset' ? '0' : ''));
    inputs.append(make('label', '', `${parameter.name}${parameter.required ? ' *' : ''}`, input));
  }
  if (parameters.length) form.append(inputs);
  const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
  let body = null;
  if (bodySchema) {
    body = make('textarea');
    body.value = JSON.stringify(example(doc, bodySchema), null, 2);
    body.setAttribute('aria-label', `Body of ${method.toUpperCase()} ${path}`);
    form.append(body);
  }
  const answer = make('pre', 'answer');
  answer.hidden = true;
  const send = make('button', '', `Send ${method.toUpperCase()} ${path}`);
  send.type = 'submit';
  form.append(send, answer);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let url = path;
    const query = new URLSearchParams();
    for (const parameter of parameters) {
      const value = form.elements.namedItem(parameter.name).value;
      if (value === '') continue;
      if (parameter.in === 'path') url = url.replace(`{${parameter.name}}`, encodeURIComponent(value));
      else query.set(parameter.name, value);
    }
    if ([...query].length) url += `?${query}`;
    const init = { method: method.toUpperCase(), headers: {} };
    if (tokenInput.value.trim()) init.headers.Authorization = `Bearer ${tokenInput.value.trim()}`;
    if (body) {
      init.headers['Content-Type'] = 'application/json';
      init.body = body.value;
    }
    answer.hidden = false;
    answer.textContent = '…';
    try {
      const response = await fetch(url, init);
      const type = response.headers.get('content-type') ?? '';
      const text = type.includes('json')
        ? JSON.stringify(await response.json(), null, 2)
        : `(${type}, ${response.headers.get('content-length') ?? '?'} bytes)`;
      answer.textContent = `${response.status} ${response.statusText}\n${text}`;
    } catch (error) {
      answer.textContent = `The server could not be reached: ${error.message}`;
    }
  });
  return form;
}

function renderOperation(doc, method, path, operation) {
  const id = `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, '-');
  const section = make('section', 'operation');
  section.id = id;
  section.append(make('h3', '', make('span', `method ${method}`, method), make('code', '', path)));
  if (operation.summary) section.append(make('p', 'summary', operation.summary));
  if (operation.description) section.append(make('p', 'description', operation.description));
  const parameters = operation.parameters ?? [];
  if (parameters.length) {
    section.append(make('h4', '', 'Parameters'));
    const table = make('table', '', make('tr', '', make('th', '', 'name'), make('th', '', 'in'),
      make('th', '', 'type'), make('th', '', 'meaning')));
    for (const parameter of parameters) {
      table.append(make('tr', '', make('td', '', make('code', '', parameter.name), parameter.required ? ' *' : ''),
        make('td', '', parameter.in), make('td', '', typeName(doc, parameter.schema)),
        make('td', '', parameter.description ?? '')));
    }
    section.append(table);
  }
  const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
  if (bodySchema) section.append(make('h4', '', `Body: ${typeName(doc, bodySchema)}`), fields(doc, bodySchema));
  section.append(make('h4', '', 'Answers'));
  const answers = make('table', '', make('tr', '', make('th', '', 'status'), make('th', '', 'when'),
    make('th', '', 'body')));
  for (const [status, response] of Object.entries(operation.responses ?? {})) {
    const content = response.content ?? {};
    const [type, media] = Object.entries(content)[0] ?? [];
    const cell = make('td', '', type ? `${typeName(doc, media?.schema)} (${type})` : '');
    if (status.startsWith('2') && media?.schema) cell.append(fields(doc, media.schema));
    answers.append(make('tr', '', make('td', '', make('code', '', status)), make('td', '', response.description ?? ''), cell));
  }
  section.append(answers, tryForm(doc, method, path, operation));
  const link = make('a', '', make('span', `method ${method}`, method), path);
  link.href = `#${id}`;
  return [section, link];
}

function render(doc) {
  document.getElementById('title').textContent = `${doc.info.title} ${doc.info.version}`;
  document.title = `${doc.info.title} · API reference`;
  const intro = make('p', 'intro description', doc.info.description ?? '');
  const byTag = new Map((doc.tags ?? []).map((tag) => [tag.name, { tag, operations: [] }]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const tag = operation.tags?.[0] ?? 'other';
      if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, operations: [] });
      byTag.get(tag).operations.push([method, path, operation]);
    }
  }
  main.replaceChildren(intro);
  toc.replaceChildren();
  for (const { tag, operations } of byTag.values()) {
    if (operations.length === 0) continue;
    main.append(make('h2', 'tag', tag.name), make('p', 'muted', tag.description ?? ''));
    toc.append(make('h2', '', tag.name));
    for (const [method, path, operation] of operations) {
      const [section, link] = renderOperation(doc, method, path, operation);
      main.append(section);
      toc.append(link);
    }
  }
}

document.getElementById('auth').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await fetch('/user/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth_data: document.getElementById('username').value,
      password: document.getElementById('password').value,
    }),
  });
  const answer = await response.json();
  if (response.ok) {
    tokenInput.value = answer.token;
    uidInput.value = String(answer.user.id);
  } else {
    tokenInput.value = '';
    tokenInput.placeholder = answer.message;
  }
});

fetch('/openapi.json')
  .then((response) => response.json())
  .then(render)
  .catch((error) => { main.textContent = `The OpenAPI document could not be loaded: ${error.message}`; });
