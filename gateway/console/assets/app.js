// The console: sign-in, the navigation, and one page at a time. What a
// role may not do is not offered: the roles come from /admin/v1/whoami.
import { api, session, onUnauthorized } from './api.js';
import { h, fill, errorText } from './dom.js';
import * as regions from './regions.js';
import * as drills from './drills.js';
import * as config from './config.js';
import * as routes from './routes.js';
import * as audit from './audit.js';
import * as workflows from './workflows.js';

const pages = [
  { id: 'regions', title: 'Regions', page: regions },
  { id: 'drills', title: 'Drills', page: drills },
  { id: 'config', title: 'Config', page: config },
  { id: 'routes', title: 'Routes', page: routes },
  { id: 'audit', title: 'Audit log', page: audit },
  { id: 'workflows', title: 'Workflows', page: workflows, role: 'operator' },
];

const $ = (id) => document.getElementById(id);
// The sign-in form is taken out of the page while signed in: keep it.
const form = $('signin');
const formError = $('signin-error');
const tokenField = $('token');
let stopPage = null;
let me = null;

function signedOut(message) {
  session.clear();
  me = null;
  if (stopPage) stopPage();
  stopPage = null;
  for (const id of ['nav', 'who', 'signout']) $(id).hidden = true;
  fill($('main'), form);
  form.hidden = false;
  formError.hidden = !message;
  formError.textContent = message || '';
  tokenField.value = '';
  tokenField.focus();
}

async function signIn(token) {
  session.set(token);
  try {
    me = (await api('GET', '/admin/v1/whoami')).data;
  } catch (err) {
    signedOut(err.status === 401 ? 'That token is not valid.' : errorText(err));
    return;
  }
  form.hidden = true;
  $('who').hidden = false;
  fill($('who'), h('strong', { text: me.name }), ` (${me.roles.join(', ')})`);
  $('signout').hidden = false;
  $('nav').hidden = false;
  fill($('nav'), allowed().map((p) => h('a', { href: `#${p.id}`, 'data-page': p.id, text: p.title })));
  show();
}

function allowed() {
  return pages.filter((p) => !p.role || me.roles.includes(p.role));
}

// show renders the page the location's hash names.
function show() {
  if (!me) return;
  const list = allowed();
  const current = list.find((p) => `#${p.id}` === location.hash) || list[0];
  for (const a of $('nav').querySelectorAll('a')) a.classList.toggle('current', a.dataset.page === current.id);
  if (stopPage) stopPage();
  const root = h('section', { class: 'page', id: `page-${current.id}` });
  fill($('main'), root);
  document.title = `${current.title} · regiongate console`;
  stopPage = current.page.render(root, { me, can: (role) => me.roles.includes(role) }) || null;
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  signIn(tokenField.value.trim());
});
$('signout').addEventListener('click', () => signedOut());
window.addEventListener('hashchange', show);
onUnauthorized(() => signedOut('The token is no longer valid: sign in again.'));

if (session.token) signIn(session.token);
else signedOut();
