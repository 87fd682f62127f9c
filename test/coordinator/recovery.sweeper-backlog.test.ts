import { afterAll, beforeAll, expect, test } from 'vitest';
import { startCoordinator, type Running } from '../support/coordinator.js';
import { api, eventually } from '../support/http.js';
import { LedgerParticipant } from '../workers/support/ledger.js';
import { expectAppliedOnce, seedUnfinished } from '../workers/support/scenario.js';

const N = 600;
// long enough that intervals, not the work, decide the old sweeper's time: one batch of 64 per
// interval needed ceil(600 / 64) = 10 sweeps, 9 intervals after the first
const INTERVAL_MS = 1500;

let p: LedgerParticipant;
let co: Running;
beforeAll(async () => {
  p = await LedgerParticipant.start();
  // the sweeper's own concurrency and batch: their defaults
  co = await startCoordinator({ label: 'sweeper_backlog', sweepIntervalMs: INTERVAL_MS });
});
afterAll(async () => {
  await co?.close();
  await p?.close();
});

test('the in-process sweeper drains a backlog of decided transactions in a few intervals once the participant heals', async () => {
  p.mode = { confirm: 'fail', cancel: 'fail' };
  const branches = () => [
    { branchId: 'a', action: 'w.debit', ...p.urls('w.debit') },
    { branchId: 'b', action: 'w.credit', ...p.urls('w.credit') },
  ];
  const xids = await seedUnfinished(co.url, N, branches);

  p.mode = { confirm: 'ok', cancel: 'ok' };
  const healed = Date.now();
  // within 4 intervals: the old sweeper needed 9 at the least
  await eventually(async () => {
    const page = await api(co.url, 'GET', '/v1/transactions?status=committing&limit=1');
    return page.status === 200 && page.body.items.length === 0;
  }, 4 * INTERVAL_MS, 50);
  const intervals = (Date.now() - healed) / INTERVAL_MS;

  for (const xid of xids.filter((_, i) => i % 50 === 0)) expect((await api(co.url, 'GET', `/v1/transactions/${xid}`)).body.status).toBe('committed');
  expectAppliedOnce(p, 'confirm', xids, ['a', 'b']);
  expect(p.calls('cancel')).toHaveLength(0);
  console.log(`[sweeper] ${N} decided transactions committed ${intervals.toFixed(1)} sweep intervals after the participant healed`);
});
