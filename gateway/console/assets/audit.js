// The audit log: who changed what and when, newest first, filtered by
// actor, action and time on the server.
import { api } from './api.js';
import { h, fill, table, time, errorText } from './dom.js';

export function render(root) {
  const list = h('div', { id: 'audit-entries' });
  const head = h('p', { class: 'hint' });
  const input = (name, label, attrs = {}) => h('label', {}, `${label} `, h('input', { name, ...attrs }));
  const form = h('form', { class: 'card inline', id: 'audit-form' },
    input('actor', 'Actor', { placeholder: 'dev.operator', size: 14 }),
    input('action', 'Action', { placeholder: 'region, config.replace', size: 14 }),
    input('since', 'Since', { type: 'datetime-local' }),
    input('until', 'Until', { type: 'datetime-local' }),
    h('button', { type: 'submit' }, 'Filter'));
  fill(root, h('h1', { text: 'Audit log' }), form, head, list);

  async function load() {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      if (!v) continue;
      q.set(k, k === 'since' || k === 'until' ? new Date(v).toISOString() : v);
    }
    try {
      const { data } = await api('GET', `/admin/v1/audit${q.size ? `?${q}` : ''}`);
      head.textContent = `${data.entries.length} entries shown. Chain head ${data.head.seq}:${data.head.hash.slice(0, 16)}… (regiongate audit verify checks it).`;
      fill(list, table(['#', 'Time', 'Actor', 'Action', 'Target', 'Source', 'Outcome', 'Detail'],
        [...data.entries].reverse().map((e) => h('tr', { 'data-action': e.action, class: e.outcome === 'failed' ? 'refused' : '' },
          h('td', { class: 'num', text: String(e.seq) }), h('td', { text: time(e.time) }), h('td', { text: e.actor }),
          h('td', {}, h('code', { text: e.action })), h('td', { text: e.target }), h('td', { text: e.source || '' }),
          h('td', { text: e.outcome || '' }), h('td', { class: 'detail', text: e.detail || '' })))));
    } catch (err) {
      fill(list, h('p', { class: 'error', text: errorText(err) }));
    }
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  load();
}
