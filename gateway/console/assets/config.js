// Config: the YAML in force with its version. Compliance edits it here:
// every problem is shown at its line, the routing change (every country x
// class whose region order changes, and who becomes refused) before
// saving, and the save is conditional (If-Match): a config changed
// meanwhile is shown as a conflict, never overwritten.
import { api } from './api.js';
import { h, fill, table, order, confirm, errorText } from './dom.js';
import { Editor } from './editor.js';

export function render(root, { can }) {
  const editable = can('compliance');
  const version = h('code', { id: 'config-version' });
  const status = h('div', { id: 'config-status', class: 'message' });
  const problems = h('div', { id: 'config-problems' });
  const changes = h('div', { id: 'config-changes' });
  const editor = new Editor({ readOnly: !editable, onInput: () => edited() });
  let loaded = { text: '', etag: '' };
  let preview = null; // { text, result } of the last preview
  let timer = null;

  const check = h('button', { type: 'button', class: 'secondary', id: 'config-check', onclick: () => runPreview() }, 'Check');
  const save = h('button', { type: 'button', id: 'config-save', disabled: true, onclick: () => saveConfig() }, 'Save…');
  fill(root,
    h('h1', {}, 'Config ', h('small', {}, 'version ', version)),
    editable
      ? h('p', { class: 'hint', text: 'Edits are checked as you type; Save shows the routing change again and needs the version you started from.' })
      : h('p', { class: 'hint', text: 'Read-only: editing the config needs the compliance role.' }),
    h('div', { class: 'config-layout' },
      h('div', {}, editor.el,
        editable ? h('div', { class: 'buttons' }, check, save,
          h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Discard edits')) : null),
      h('div', { class: 'config-side' }, status, problems, changes)));

  async function load() {
    try {
      const { data, headers } = await api('GET', '/admin/v1/config');
      loaded = { text: data, etag: headers.get('ETag') || '' };
      editor.text = data;
      version.textContent = loaded.etag.replaceAll('"', '');
      preview = null;
      editor.mark(new Map());
      fill(problems);
      fill(changes);
      save.disabled = true;
    } catch (err) {
      fill(status, h('p', { class: 'error', text: errorText(err) }));
    }
  }

  function edited() {
    save.disabled = true;
    clearTimeout(timer);
    if (editable) timer = setTimeout(runPreview, 600);
  }

  async function runPreview() {
    clearTimeout(timer);
    const text = editor.text;
    try {
      const { data } = await api('POST', '/admin/v1/config/preview', { yaml: text });
      if (editor.text !== text) return; // typed on: a newer preview follows
      preview = { text, result: data };
      showPreview(data);
      save.disabled = !data.valid || text === loaded.text;
    } catch (err) {
      fill(status, h('p', { class: 'error', text: errorText(err) }));
    }
  }

  function showPreview(p) {
    editor.mark(new Map(p.problems.filter((x) => x.line).map((x) => [x.line, x.message])));
    fill(status, p.valid
      ? h('p', { class: 'ok', 'data-valid': 'true', text: `Valid. ${p.summary}.` })
      : h('p', { class: 'error', 'data-valid': 'false', text: `Not valid: ${p.problems.length} problem(s). Nothing would change.` }));
    fill(problems, p.problems.length ? problemList(p.problems, editor) : null,
      p.warnings.length ? [h('h3', { text: 'Warnings' }), problemList(p.warnings, editor)] : null);
    fill(changes, p.valid ? changeView(p) : null);
  }

  async function saveConfig() {
    await runPreview();
    if (!preview || !preview.result.valid || preview.text !== editor.text) return;
    const p = preview.result;
    const ok = await confirm({ title: 'Save the config?', action: 'Save', danger: p.newlyRefused.length > 0,
      body: [h('p', { text: `${p.summary}.` }),
        p.newlyRefused.length ? refusedList(p.newlyRefused) : null,
        h('p', { class: 'hint', text: `Replaces version ${loaded.etag.replaceAll('"', '')}; the change is audited before it takes effect.` })] });
    if (!ok) return;
    try {
      const { data } = await api('PUT', '/admin/v1/config', { yaml: preview.text, headers: { 'If-Match': loaded.etag } });
      await load();
      fill(status, h('p', { class: 'ok', id: 'config-saved', text: `Saved: version ${data.version} is in force (was ${data.previous}). ${data.summary}.` }));
    } catch (err) {
      saveFailed(err);
    }
  }

  function saveFailed(err) {
    if (err.kind === 'precondition-failed') {
      save.disabled = true; // the version it started from is gone
      const mine = editor.text;
      fill(status, h('div', { class: 'card conflict', id: 'config-conflict' },
        h('h2', { text: 'Conflict: the config changed since you loaded it' }),
        h('p', { text: `You started from version ${loaded.etag.replaceAll('"', '')}, and someone has saved another since. Nothing was saved. Load the current config and redo your edit.` }),
        h('details', {}, h('summary', { text: 'Your edit (to copy)' }), h('pre', { text: mine })),
        h('button', { type: 'button', onclick: () => load() }, 'Load the current config')));
      return;
    }
    if (err.problem && err.problem.problems) showPreview({ valid: false, problems: err.problem.problems, warnings: [] });
    fill(status, h('p', { class: 'error', text: errorText(err) }));
  }

  load();
  return () => clearTimeout(timer);
}

function problemList(list, editor) {
  return h('ul', { class: 'problems' }, list.map((p) => h('li', {},
    h('button', { type: 'button', class: 'link', 'data-line': p.line || '', onclick: () => p.line && editor.select(p.line) },
      p.line ? `line ${p.line}` : 'no line'),
    p.path ? [' ', h('code', { text: p.path })] : null, ': ', p.message)));
}

function refusedList(list) {
  return h('div', { class: 'warning', id: 'newly-refused' },
    h('strong', { text: `Newly refused (${list.length}):` }), ' ',
    list.map((c) => `${c.country} ${c.class}`).join(', '));
}

function changeView(p) {
  if (!p.changes.length) return h('p', { class: 'hint', text: 'No routing changes: every country and class keeps its region order.' });
  return h('div', {},
    h('h2', { text: 'Routing change' }),
    p.newlyRefused.length ? refusedList(p.newlyRefused) : null,
    table(['Country', 'Class', 'Before', 'After'], p.changes.map((c) =>
      h('tr', { class: c.after && c.after.length ? '' : 'refused', 'data-change': `${c.country}/${c.class}` },
        h('td', { text: c.country }), h('td', { text: c.class }),
        h('td', { text: order(c.before) }), h('td', { text: order(c.after) }))), { class: 'changes' }));
}
