// A saga's and a message's own parts of a transaction's page (PROTOCOL.md v1.2): its steps
// with their after lists and results, and what the attempt history tells of each mode's
// calls: a saga's forward path and compensations, a message's check-backs and deliveries.
import { ago, h, time } from './dom.js';

const json = (v) => (v === undefined ? '' : JSON.stringify(v));

/** The steps in array order: each one's after list (the step before it when none was given), status and a saga step's result. */
export function stepsTable(tx) {
  const saga = tx.mode === 'saga';
  return h('table.branches.steps', { id: 'steps' },
    h('thead', {}, h('tr', {}, ['#', 'step', 'action', 'after', 'status', saga ? 'result' : null, 'calls this phase', 'last error'].filter(Boolean).map((c) => h('th', {}, c)))),
    h('tbody', {}, tx.branches.map((b, i) =>
      h('tr', { dataset: { branch: b.branchId, status: b.status } },
        h('td.num', {}, i + 1),
        h('td.mono', {}, b.branchId),
        h('td', {}, b.action ?? '—'),
        h('td.mono.after', {}, b.after?.length ? b.after.join(', ') : '—'),
        h('td', {}, h(`span.badge.b-${b.status}`, {}, b.status.replace('_', ' '))),
        saga ? h('td.mono.result.clip', { title: json(b.result) }, json(b.result)) : null,
        h('td.num', {}, b.attempts),
        h('td.error-text', {}, b.lastError ?? '')))));
}

/** A saga action's answer the business refused (PROTOCOL.md "How the caller reads the answer"): a 4xx other than 408 and 429. */
const refused = (status) => status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429;

/** What one call meant, by the phase it was made in: a message's delivery is retried whatever it answered. */
const MEANING = {
  action: (a, mode) => (a.ok ? (mode === 'msg' ? 'delivered' : 'done') : mode === 'saga' && refused(a.httpStatus) ? 'refused: the saga rolls back' : 'retried'),
  compensate: (a) => (a.ok ? 'compensated' : 'retried'),
  check: (a) => (a.httpStatus === 200 ? 'committed: deliver' : a.httpStatus === 409 ? 'not committed: roll back' : 'asked again later'),
};

function calls(id, title, list, mode, empty) {
  return [
    h('h2', {}, `${title} `, h('span.muted', {}, `${list.length} call${list.length === 1 ? '' : 's'}`)),
    list.length === 0
      ? h('p.empty', { id }, empty)
      : h('ol.timeline.mode-calls', { id }, list.map((a) =>
          h(`li.attempt.${a.ok ? 'ok' : 'failed'}`, { dataset: { phase: a.phase, branch: a.branchId, status: a.httpStatus ?? 'none' } },
            h('span.when', {}, time(a.at)),
            h('span.mono', {}, a.phase === 'check' ? 'producer' : a.branchId),
            h('span.muted', {}, `#${a.attempt}`),
            h(`span.code.${a.ok ? 'ok' : 'failed'}`, {}, a.httpStatus === null ? 'no answer' : String(a.httpStatus)),
            h('span.meaning', {}, MEANING[a.phase](a, mode)),
            a.error ? h('span.error-text.detail', {}, a.error) : null))),
  ];
}

/** A saga's forward path and compensations, or a message's check-backs and deliveries, oldest first. */
export function modeSections(tx, attempts) {
  const of = (phase) => attempts.filter((a) => a.phase === phase);
  if (tx.mode === 'saga') {
    return [
      ...calls('forward', 'Forward path', of('action'), 'saga', 'No step called yet.'),
      ...calls('compensations', 'Compensations', of('compensate'), 'saga', 'Nothing compensated.'),
    ];
  }
  if (tx.mode === 'msg') {
    return [
      ...calls('checks', 'Check-backs', of('check'), 'msg', tx.status === 'trying' ? 'Not asked yet: the producer is asked at the deadline if it has not committed by then.' : 'The producer was not asked: its commit or rollback came first.'),
      ...calls('deliveries', 'Deliveries', of('action'), 'msg', 'Nothing delivered yet.'),
    ];
  }
  return [];
}

/** The decision and why, in the words of the transaction's mode. */
export function decisionOf(tx, attempts) {
  const checked = attempts.some((a) => a.phase === 'check' && a.httpStatus === 200);
  if (tx.mode === 'saga') {
    if (tx.status === 'trying') return ['not taken yet', `its steps run forward; what ran is compensated at the deadline ${ago(tx.deadline)} unless every step is done`];
    if (tx.status === 'committed') return ['commit', 'every step’s action succeeded'];
  } else if (tx.mode === 'msg') {
    if (tx.status === 'trying') return ['not taken yet', 'prepared: waits for its producer’s commit; the producer is asked at the deadline'];
    if (tx.status === 'committing' || tx.status === 'committed') return ['commit', checked ? 'the producer’s check-back answered 200: its local transaction committed' : 'the producer committed'];
  } else {
    if (tx.status === 'trying') return ['not taken yet', `rolled back at the deadline ${ago(tx.deadline)} unless committed`];
    if (tx.status === 'committing' || tx.status === 'committed') return ['commit', 'every try succeeded and the commit was requested'];
  }
  return ['rollback', tx.reason ?? 'rollback requested'];
}
