// The DTX dashboard: hash routes (#/ the list, #/tx/<xid> one transaction), refreshed
// every few seconds without a reload; asks for an API token when the API wants one.
import { listTransactions, token, Unauthorized } from './api.js';
import { h } from './dom.js';
import { listView } from './list.js';
import { txView } from './tx.js';

const REFRESH_MS = 2000;
const main = document.getElementById('main');
const search = document.getElementById('search');
const refreshed = document.getElementById('refreshed');
let current = null;
let timer = null;

function route() {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const m = /^\/tx\/(.+)$/.exec(path ?? '');
  return m ? txView(decodeURIComponent(m[1])) : listView(new URLSearchParams(query));
}

async function show() {
  clearTimeout(timer);
  current = route();
  main.replaceChildren(current.el);
  await tick(current);
}

async function tick(view) {
  if (view !== current) return;
  try {
    await view.refresh();
    refreshed.textContent = `updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
    refreshed.classList.remove('error-text');
  } catch (err) {
    if (err instanceof Unauthorized) return askForToken(Boolean(token.get()));
    if (err.status === 404) {
      main.replaceChildren(h('section', {}, h('a.back', { href: '#/' }, '← all transactions'), h('p.empty', {}, err.message)));
      return;
    }
    refreshed.textContent = `not updated: ${err.message}`;
    refreshed.classList.add('error-text');
  }
  if (view === current) timer = setTimeout(() => tick(view), REFRESH_MS);
}

/** Nothing but the prompt until a token the API accepts is given. */
function askForToken(refused) {
  clearTimeout(timer);
  current = null;
  token.clear();
  search.hidden = true;
  const form = document.getElementById('token-prompt').content.firstElementChild.cloneNode(true);
  form.querySelector('#token-error').hidden = !refused;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    token.set(form.querySelector('#token').value.trim());
    await start();
  });
  main.replaceChildren(form);
  form.querySelector('#token').focus();
}

async function start() {
  try {
    await listTransactions({ limit: '1' });
  } catch (err) {
    if (err instanceof Unauthorized) return askForToken(Boolean(token.get()));
  }
  search.hidden = false;
  await show();
}

search.addEventListener('submit', (e) => {
  e.preventDefault();
  const xid = document.getElementById('search-xid').value.trim();
  if (xid) location.hash = `#/tx/${encodeURIComponent(xid)}`;
});
window.addEventListener('hashchange', () => current !== null && show());
void start();
