// Workflows (operators): where a tenant's workflow lives, and its status.
import { api } from './api.js';
import { h, fill, errorText } from './dom.js';

export function render(root) {
  const result = h('div', { id: 'workflow-result' });
  const id = h('input', { name: 'id', required: true, size: 36, placeholder: 'booking-123' });
  const tenant = h('input', { name: 'tenant', size: 12, placeholder: 'acme' });
  const form = h('form', { class: 'card inline', id: 'workflow-form' },
    h('label', {}, 'Workflow id ', id), h('label', {}, 'Tenant ', tenant),
    h('button', { type: 'submit' }, 'Look up'),
    h('p', { class: 'hint', text: 'The id the tenant\'s client uses; leave the tenant empty for an anonymous caller\'s workflow.' }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = tenant.value ? `?tenant=${encodeURIComponent(tenant.value)}` : '';
    try {
      const { data } = await api('GET', `/admin/v1/workflows/${encodeURIComponent(id.value)}${q}`);
      fill(result, h('dl', { class: 'card' },
        h('dt', { text: 'Workflow' }), h('dd', {}, h('code', { text: data.workflowId })),
        h('dt', { text: 'Tenant' }), h('dd', { text: data.tenant || '(anonymous)' }),
        h('dt', { text: 'Region' }), h('dd', { 'data-field': 'region', text: data.region }),
        h('dt', { text: 'Namespace' }), h('dd', { 'data-field': 'namespace', text: data.namespace }),
        h('dt', { text: 'Status' }), h('dd', { 'data-field': 'status', text: data.status }),
        h('dt', { text: 'Run' }), h('dd', {}, h('code', { text: data.runId }))));
    } catch (err) {
      fill(result, h('p', { class: 'error', text: errorText(err) }));
    }
  });
  fill(root, h('h1', { text: 'Workflows' }), form, result);
}
