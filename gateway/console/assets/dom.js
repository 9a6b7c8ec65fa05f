// Small DOM helpers. Everything the API sends is put in as text, never
// as HTML.

// h builds an element: attrs may hold class, text, on<Event> handlers and
// any attribute (false or null leaves it out); children are nodes,
// strings, arrays of them, or null.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// fill replaces el's children.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function order(regions) {
  return regions && regions.length ? regions.join(' → ') : 'refused';
}

// errorText says what went wrong, for a line under a form.
export function errorText(err) {
  if (err && err.status) return `${err.status} ${err.problem.title || ''}: ${err.message}`;
  return String(err && err.message ? err.message : err);
}

export function table(headers, rows, attrs = {}) {
  return h('table', attrs,
    h('thead', {}, h('tr', {}, headers.map((c) => h('th', { text: c })))),
    h('tbody', {}, rows));
}

// confirm asks in a modal dialog; resolves true when the user confirms.
export function confirm({ title, body, action, danger = false }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm' });
    const done = (yes) => { dialog.close(); dialog.remove(); resolve(yes); };
    fill(dialog,
      h('h2', { text: title }),
      h('div', {}, body),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, 'Cancel'),
        h('button', { type: 'button', class: danger ? 'danger' : '', 'data-confirm': '', onclick: () => done(true) }, action)));
    dialog.addEventListener('cancel', () => done(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

// every calls f now and every ms until the returned stop is called.
export function every(ms, f) {
  f();
  const id = setInterval(f, ms);
  return () => clearInterval(id);
}
