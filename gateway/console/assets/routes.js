// Routes: explain one request's decision, and the whole route table of
// the config in force.
import { api } from './api.js';
import { h, fill, table, order, errorText } from './dom.js';

export function render(root) {
  const result = h('div', { id: 'explain-result' });
  const matrix = h('div', { id: 'route-table' });
  const filter = h('input', { type: 'search', placeholder: 'Filter: country or jurisdiction (DE, EU)', id: 'route-filter' });
  let routeTable = null;
  fill(root, h('h1', { text: 'Routes' }), explainForm(result), result,
    h('h2', { text: 'Route table' }),
    h('p', { class: 'hint', text: 'Every country x class: the lawful regions in preference order with every region available.' }),
    filter, matrix);
  filter.addEventListener('input', () => routeTable && fill(matrix, tableView(routeTable, filter.value)));
  api('GET', '/admin/v1/route/table').then(({ data }) => {
    routeTable = data;
    fill(matrix, tableView(data, ''));
  }).catch((err) => fill(matrix, h('p', { class: 'error', text: errorText(err) })));
}

function explainForm(result) {
  const field = (name, label, value, attrs = {}) => h('label', {}, `${label} `, h('input', { name, value, ...attrs }));
  const form = h('form', { class: 'card inline', id: 'explain-form' },
    h('h2', { text: 'Explain a request' }),
    field('userLocation', 'Country', 'DE', { required: true, size: 4 }),
    field('dataClassification', 'Class', 'pii', { required: true, size: 10 }),
    field('workflowType', 'Workflow type', 'PropertyBooking', { required: true }),
    field('tenant', 'Tenant', '', { size: 10 }),
    h('label', {}, 'Priority ', h('select', { name: 'priority' }, ['normal', 'high', 'low'].map((p) => h('option', { text: p })))),
    h('button', { type: 'submit' }, 'Explain'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = Object.fromEntries(new FormData(form));
    if (!body.tenant) delete body.tenant;
    try {
      const { data } = await api('POST', '/admin/v1/route/explain', { json: body });
      fill(result, explanation(data));
    } catch (err) {
      fill(result, h('p', { class: 'error', text: errorText(err) }));
    }
  });
  return form;
}

function explanation(x) {
  const d = x.decision;
  return h('div', { class: 'card', 'data-allowed': String(x.allowed) },
    x.allowed
      ? h('p', { class: 'ok' }, 'Goes to ', h('strong', { text: d.region }), ` (namespace ${d.namespace}, task queue ${d.taskQueue}).`)
      : h('p', { class: 'error', text: `Refused (${x.refusal.status}): ${x.refusal.reason}` }),
    h('dl', {},
      h('dt', { text: 'Country' }), h('dd', { text: `${x.userLocation} (from ${x.locationSource || 'body'})` }),
      h('dt', { text: 'Jurisdictions' }), h('dd', { text: (d.jurisdictions || []).join(', ') || 'none' }),
      h('dt', { text: 'Resident' }), h('dd', { text: d.resident ? 'yes' : 'no' }),
      h('dt', { text: 'Lawful, in order' }), h('dd', { text: order(d.lawful) }),
      h('dt', { text: 'Available now' }), h('dd', { text: order(d.candidates) })),
    table(['Region', '', 'Why'], (d.reasons || []).map((r) => h('tr', { class: r.kept ? 'kept' : 'skipped' },
      h('td', { text: r.region }), h('td', { text: r.kept ? 'keep' : 'skip' }), h('td', { text: r.why })))));
}

function tableView(t, filter) {
  const f = filter.trim().toUpperCase();
  const rows = t.rows.filter((r) => !f || r.country === f || r.jurisdictions.includes(f) || r.country.startsWith(f));
  return h('div', { class: 'scroll' }, table(['Country', 'Jurisdictions', ...t.classes.map((c) => c.name + (c.resident ? ' (resident)' : ''))],
    rows.map((r) => h('tr', { 'data-country': r.country },
      h('th', { text: r.country }), h('td', { text: r.jurisdictions.join(', ') }),
      r.routes.map((o) => h('td', { class: o.length ? '' : 'refused', text: order(o) }))))), { class: 'matrix' });
}
