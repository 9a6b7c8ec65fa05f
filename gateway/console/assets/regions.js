// Regions: state, breaker, health, drains and drills, endpoints, this
// replica's traffic; operators drain and restore, after a confirmation
// that names who a drain would refuse.
import { api } from './api.js';
import { h, fill, table, confirm, every, errorText } from './dom.js';

export function render(root, { can }) {
  const body = h('div');
  const status = h('p', { class: 'error', hidden: true });
  fill(root, h('h1', { text: 'Regions' }),
    h('p', { class: 'hint', text: 'Refreshed every 3 seconds. Traffic is this gateway replica\'s client API requests in the last minute.' }),
    status, body);

  async function refresh() {
    try {
      const { data } = await api('GET', '/admin/v1/regions');
      fill(body, regionTable(data.regions, can('operator'), act));
      status.hidden = true;
    } catch (err) {
      status.textContent = errorText(err);
      status.hidden = false;
    }
  }

  async function act(region, action) {
    try {
      if (!(await confirmed(region, action))) return;
      await api('POST', `/admin/v1/regions/${encodeURIComponent(region.name)}/${action}`);
      await refresh();
    } catch (err) {
      status.textContent = errorText(err);
      status.hidden = false;
    }
  }
  return every(3000, refresh);
}

async function confirmed(region, action) {
  if (action === 'restore') {
    return confirm({ title: `Restore ${region.name}?`, action: 'Restore',
      body: h('p', { text: `${region.name} takes new work again.` }) });
  }
  const { data } = await api('GET', `/admin/v1/regions/${encodeURIComponent(region.name)}/drain-impact`);
  const who = data.wouldRefuse.length
    ? h('p', { class: 'warning', 'data-would-refuse': data.wouldRefuse.join(',') },
      'Resident data of ', h('strong', { text: data.wouldRefuse.join(', ') }),
      ' would have no available lawful region and be refused (503) while it is drained.')
    : h('p', { 'data-would-refuse': '' }, 'Nobody would be refused: every resident route keeps an available lawful region.');
  return confirm({ title: `Drain ${region.name}?`, action: 'Drain', danger: data.wouldRefuse.length > 0,
    body: [h('p', { text: `New work stops going to ${region.name}; running workflows are untouched.` }), who] });
}

function regionTable(regions, operator, act) {
  const headers = ['Region', 'State', 'Breaker', 'Health', 'Endpoint', 'Namespace', 'Residency', 'Failover', 'In flight', 'Errors (1 min)'];
  if (operator) headers.push('');
  return table(headers, regions.map((r) => {
    const t = r.traffic;
    const state = r.drill ? `drilled (${r.drill})` : r.state;
    const row = h('tr', { 'data-region': r.name },
      h('th', { text: r.name }),
      h('td', { class: `state ${r.state}`, 'data-state': r.state, text: state }),
      h('td', { class: `breaker ${r.breaker}`, text: r.breaker }),
      h('td', { class: r.healthy ? 'ok' : 'bad', text: r.healthy ? 'healthy' : (r.reachable ? 'unhealthy (recovering)' : 'unhealthy') }),
      h('td', {}, h('code', { text: r.endpoint })),
      h('td', { text: r.namespace }),
      h('td', { text: r.residency.join(', ') }),
      h('td', { text: r.failover.join(', ') }),
      h('td', { class: 'num', text: String(t.inFlight) }),
      h('td', { class: 'num', text: t.requests ? `${(t.errorRate * 100).toFixed(1)}% of ${t.requests}` : '–' }));
    if (operator) row.append(h('td', {}, actionButton(r, act)));
    return row;
  }), { class: 'regions' });
}

function actionButton(r, act) {
  if (r.drill) return h('span', { class: 'hint', text: 'drill: back by itself' });
  const action = r.state === 'drained' ? 'restore' : 'drain';
  return h('button', { type: 'button', class: action === 'drain' ? 'danger' : '', 'data-action': action,
    'data-region': r.name, onclick: () => act(r, action) }, action === 'drain' ? 'Drain…' : 'Restore…');
}
