// The transaction list: newest first, filtered by mode, status and stuck, a page at a time.
import { listTransactions } from './api.js';
import { ago, h, modeBadge, statusBadge, time } from './dom.js';

const STATUSES = ['trying', 'committing', 'rolling_back', 'committed', 'rolled_back'];
const MODES = ['tcc', 'saga', 'msg'];
const PAGE = 25;

export function listView(params) {
  const state = { mode: params.get('mode') ?? '', status: params.get('status') ?? '', stuck: params.get('stuck') === 'true', cursors: [null] };
  const table = h('div.table-wrap');
  const pager = h('nav.pager');
  const setFilter = () => {
    const q = new URLSearchParams();
    if (state.mode) q.set('mode', state.mode);
    if (state.status) q.set('status', state.status);
    if (state.stuck) q.set('stuck', 'true');
    history.replaceState(null, '', `#/${q.size ? `?${q}` : ''}`);
    state.cursors = [null];
    view.refresh();
  };
  const status = h('select', { id: 'filter-status', 'aria-label': 'status', onchange: (e) => ((state.status = e.target.value), setFilter()) },
    h('option', { value: '' }, 'every status'),
    STATUSES.map((s) => h('option', { value: s, selected: s === state.status }, s.replace('_', ' '))));
  const mode = h('select', { id: 'filter-mode', 'aria-label': 'mode', onchange: (e) => ((state.mode = e.target.value), setFilter()) },
    h('option', { value: '' }, 'every mode'),
    MODES.map((m) => h('option', { value: m, selected: m === state.mode }, m)));
  const stuck = h('label.check', {}, h('input', { type: 'checkbox', id: 'filter-stuck', checked: state.stuck, onchange: (e) => ((state.stuck = e.target.checked), setFilter()) }), 'stuck only');
  const el = h('section.list', {}, h('div.toolbar', {}, h('h1', {}, 'Transactions'), mode, status, stuck), table, pager);

  const view = {
    el,
    async refresh() {
      const q = { limit: String(PAGE) };
      if (state.mode) q.mode = state.mode;
      if (state.status) q.status = state.status;
      if (state.stuck) q.stuck = 'true';
      const cursor = state.cursors.at(-1);
      if (cursor) q.cursor = cursor;
      const page = await listTransactions(q);
      table.replaceChildren(page.items.length ? rows(page.items) : h('p.empty', {}, state.stuck ? 'No stuck transaction. Good.' : 'No transaction matches.'));
      const n = state.cursors.length;
      pager.replaceChildren(
        h('button.secondary', { id: 'page-newer', disabled: n === 1, onclick: () => (state.cursors.pop(), view.refresh()) }, '← Newer'),
        h('span.muted', {}, `page ${n}`),
        h('button.secondary', { id: 'page-older', disabled: !page.nextCursor, onclick: () => (state.cursors.push(page.nextCursor), view.refresh()) }, 'Older →'),
      );
    },
  };
  return view;
}

function rows(items) {
  return h('table.tx-list', {},
    h('thead', {}, h('tr', {}, ['xid', 'mode', 'status', 'created', 'updated', 'rounds failed', 'last error / reason'].map((c) => h('th', {}, c)))),
    h('tbody', {}, items.map((t) =>
      h('tr', { dataset: { xid: t.xid, status: t.status, mode: t.mode } },
        h('td.mono', {}, h('a', { href: `#/tx/${encodeURIComponent(t.xid)}` }, t.xid)),
        h('td', {}, modeBadge(t.mode)),
        h('td', {}, statusBadge(t.status, t.stuck)),
        h('td', {}, time(t.createdAt)),
        h('td', { title: t.updatedAt }, ago(t.updatedAt)),
        h('td.num', {}, t.attempts),
        t.lastError
          ? h('td.error-text.clip', { title: t.lastError }, t.lastError)
          : h('td.muted.clip', { title: t.reason ?? '' }, t.reason ?? ''),
      ))));
}
