// Drills: start one (operators), follow its report live while it runs,
// read past reports.
import { api } from './api.js';
import { h, fill, table, time, every, errorText } from './dom.js';

export function render(root, { can }) {
  const list = h('div');
  const report = h('div', { id: 'drill-report' });
  let stopReport = () => {};
  fill(root, h('h1', { text: 'Drills' }), can('operator') ? startForm(open) : null,
    h('h2', { text: 'Drills' }), list, report);

  async function refresh() {
    try {
      const { data } = await api('GET', '/admin/v1/drills');
      const drills = [...data.drills].reverse();
      fill(list, drills.length ? table(['Drill', 'Region', 'Start', 'End', 'By', ''], drills.map((d) => h('tr', { 'data-drill': d.id },
        h('td', {}, h('code', { text: d.id })), h('td', { text: d.region }), h('td', { text: time(d.start) }),
        h('td', { text: time(d.end) }), h('td', { text: d.actor }),
        h('td', {}, h('button', { type: 'button', class: 'secondary', 'data-report': d.id, onclick: () => open(d.id) }, 'Report'))))) :
        h('p', { class: 'hint', text: 'No drills yet.' }));
    } catch (err) {
      fill(list, h('p', { class: 'error', text: errorText(err) }));
    }
  }

  // open shows a drill's report, refreshed every 2 s until it completes.
  function open(id) {
    stopReport();
    let done = false;
    const stop = every(2000, async () => {
      if (done) return;
      try {
        const { data } = await api('GET', `/admin/v1/drills/${encodeURIComponent(id)}`);
        fill(report, reportView(data));
        if (data.status === 'completed') {
          done = true;
          refresh();
        }
      } catch (err) {
        fill(report, h('p', { class: 'error', text: errorText(err) }));
      }
    });
    stopReport = stop;
    refresh();
  }

  const stopList = every(10000, refresh);
  return () => { stopList(); stopReport(); };
}

function startForm(open) {
  const region = h('select', { name: 'region', required: true });
  const duration = h('input', { name: 'duration', type: 'number', min: 1, max: 86400, value: '60', required: true });
  const force = h('input', { name: 'force', type: 'checkbox' });
  const message = h('div', { class: 'message' });
  api('GET', '/admin/v1/regions').then(({ data }) =>
    fill(region, data.regions.map((r) => h('option', { value: r.name, text: r.name }))))
    .catch((err) => fill(message, h('p', { class: 'error', text: errorText(err) })));
  const form = h('form', { class: 'card inline', id: 'drill-form' },
    h('h2', { text: 'Start a drill' }),
    h('p', { class: 'hint', text: 'The region is drained for the duration, then comes back by itself on every replica.' }),
    h('label', {}, 'Region ', region),
    h('label', {}, 'Duration (seconds) ', duration),
    h('label', { class: 'check' }, force, ' Force, even if some resident data would be refused'),
    h('button', { type: 'submit' }, 'Start drill'), message);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(message);
    try {
      const { data } = await api('POST', '/admin/v1/drills', { json: {
        region: region.value, durationSeconds: Number(duration.value), force: force.checked } });
      fill(message, h('p', { class: 'ok', text: `Drill ${data.id} started: ${data.region} drained until ${time(data.end)}.` }));
      open(data.id);
    } catch (err) {
      const refused = err.problem && err.problem.wouldRefuse;
      fill(message, h('p', { class: 'error', text: errorText(err) }),
        refused ? h('p', { class: 'warning', text: `It would refuse resident data of ${refused.join(', ')}. Tick "Force" only if refusing them is acceptable.` }) : null);
    }
  });
  return form;
}

function reportView(r) {
  const lat = (name, l) => h('tr', {}, h('th', { text: name }), h('td', { class: 'num', text: String(l.requests) }),
    h('td', { class: 'num', text: l.p50Ms.toFixed(2) }), h('td', { class: 'num', text: l.p99Ms.toFixed(2) }));
  return h('div', { class: 'card report', 'data-status': r.status },
    h('h2', {}, 'Report ', h('code', { text: r.id }), ' ', h('span', { class: `badge ${r.status}`, text: r.status })),
    h('dl', {},
      h('dt', { text: 'Region' }), h('dd', { text: r.region }),
      h('dt', { text: 'Started by' }), h('dd', { text: r.actor + (r.forced ? ' (forced)' : '') }),
      h('dt', { text: 'Start' }), h('dd', { text: time(r.start) }),
      h('dt', { text: 'End' }), h('dd', { text: time(r.end) }),
      h('dt', { text: 'Rerouted' }), h('dd', { class: 'num', 'data-count': 'rerouted', text: String(r.rerouted) }),
      h('dt', { text: 'Refused' }), h('dd', { class: 'num', 'data-count': 'refused', text: String(r.refused) }),
      h('dt', { text: 'Errors' }), h('dd', { class: 'num', 'data-count': 'errors', text: String(r.errors) }),
      r.wouldRefuse ? [h('dt', { text: 'Refused during it' }), h('dd', { text: r.wouldRefuse.join(', ') })] : null),
    h('h3', { text: 'Latency of this replica\'s client API requests' }),
    table(['Window', 'Requests', 'p50 ms', 'p99 ms'], [lat('before', r.latency.before), lat('during', r.latency.during), lat('after', r.latency.after)]));
}
