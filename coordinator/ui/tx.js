// One transaction: what was decided and why, its branches (a saga's or a message's steps and
// what its mode's calls did), and every participant call.
import { getAttempts, getTransaction, retryTransaction } from './api.js';
import { ago, h, modeBadge, statusBadge, time } from './dom.js';
import { decisionOf, modeSections, stepsTable } from './steps.js';

const RETRYABLE = new Set(['committing', 'rolling_back']);

export function txView(xid) {
  const body = h('div');
  const note = h('p.note', { id: 'retry-note', 'aria-live': 'polite' });
  const el = h('section.tx', {}, h('a.back', { href: '#/' }, '← all transactions'), body, note);
  const view = {
    el,
    async refresh() {
      const [tx, attempts] = await Promise.all([getTransaction(xid), getAttempts(xid)]);
      body.replaceChildren(render(tx, attempts.items, async (button) => {
        button.disabled = true;
        note.textContent = 'Retrying…';
        try {
          const r = await retryTransaction(xid);
          note.textContent = `Retry requested: ${r.status.replace('_', ' ')}.`;
        } catch (err) {
          note.textContent = `Retry failed: ${err.message}`;
        }
        await view.refresh();
      }));
    },
  };
  return view;
}

function render(tx, attempts, onRetry) {
  const [decided, why] = decisionOf(tx, attempts);
  const facts = [
    ['Mode', modeBadge(tx.mode)],
    ['Decision', h('span', {}, h('strong', {}, decided), ' — ', why)],
    ['Created', time(tx.createdAt)],
    ['Deadline', time(tx.deadline)],
    ['Finished', time(tx.finishedAt)],
    ['Next retry', tx.nextRetryAt && RETRYABLE.has(tx.status) ? h('span', {}, time(tx.nextRetryAt), ` (${ago(tx.nextRetryAt)})`) : h('span.muted', {}, '—')],
    ['Rounds failed', String(tx.attempts)],
    ['Trace id', tx.traceId ? h('code', { id: 'trace-id' }, tx.traceId) : h('span.muted', {}, '—')],
    ['Last error', tx.lastError ? h('span.error-text', {}, tx.lastError) : h('span.muted', {}, '—')],
  ];
  return h('div', {},
    h('div.tx-head', {},
      h('h1.mono', {}, tx.xid),
      statusBadge(tx.status, tx.stuck),
      RETRYABLE.has(tx.status) ? h('button', { id: 'retry', title: 'Run phase 2 of this transaction now', onclick: (e) => onRetry(e.currentTarget) }, 'Retry now') : null),
    h('dl.facts', {}, facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    tx.meta ? h('details', {}, h('summary', {}, 'meta'), h('pre', {}, JSON.stringify(tx.meta, null, 2))) : null,
    tx.mode === 'tcc' ? branchesTable(tx) : [h('h2', {}, 'Steps'), stepsTable(tx)],
    modeSections(tx, attempts),
    h('h2', {}, `Timeline `, h('span.muted', {}, `${attempts.length} call${attempts.length === 1 ? '' : 's'}`)),
    attempts.length === 0
      ? h('p.empty', {}, 'No participant call made by the coordinator yet (in initiator-driven mode the initiator sends the tries).')
      : h('ol.timeline', { id: 'timeline' }, attempts.map((a) =>
          h(`li.attempt.${a.ok ? 'ok' : 'failed'}`, { dataset: { phase: a.phase, branch: a.branchId, status: a.httpStatus ?? 'none' } },
            h('span.when', {}, time(a.at)),
            h(`span.phase.p-${a.phase}`, {}, a.phase),
            h('span.mono', {}, a.branchId),
            h('span.muted', {}, `#${a.attempt}`),
            h(`span.code.${a.ok ? 'ok' : 'failed'}`, { title: a.httpStatus === null ? 'no answer' : `HTTP ${a.httpStatus}` }, a.httpStatus === null ? 'no answer' : String(a.httpStatus)),
            h('span.dur', {}, `${a.durationMs} ms`),
            a.error ? h('span.error-text.detail', {}, a.error) : null))),
  );
}

/** A TCC transaction's branches. */
function branchesTable(tx) {
  return [
    h('h2', {}, 'Branches'),
    h('table.branches', {},
      h('thead', {}, h('tr', {}, ['branch', 'action', 'status', 'calls this phase', 'last error', 'updated'].map((c) => h('th', {}, c)))),
      h('tbody', {}, tx.branches.map((b) =>
        h('tr', { dataset: { branch: b.branchId } },
          h('td.mono', {}, b.branchId), h('td', {}, b.action ?? '—'), h('td', {}, h(`span.badge.b-${b.status}`, {}, b.status.replace('_', ' '))),
          h('td.num', {}, b.attempts), h('td.error-text', {}, b.lastError ?? ''), h('td', {}, time(b.updatedAt)))))),
  ];
}
