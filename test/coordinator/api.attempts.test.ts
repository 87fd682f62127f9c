import { describe, expect, test } from 'vitest';
import { ATTEMPTS_KEPT_LATEST } from '../../coordinator/src/log/attempt-records.js';
import { Pruner } from '../../coordinator/src/log/pruner.js';
import { TransactionLog } from '../../coordinator/src/log/transaction-log.js';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { apiSuite, expectError, ISO_MS, xid } from './api.fixture.js';

const stores = await storeKinds();

/** Attempt history and branch attempts (PROTOCOL.md v1.1 "Attempt history"; issue 12's gap). */
describe.each(stores)('attempt history on %s', (kind) => {
  const s = apiSuite(kind, 'api_attempts', { retryBaseMs: 5, retryMaxMs: 10, sweepIntervalMs: 20 });
  const attempts = async (x: string) => (await api(s.base, 'GET', `/v1/transactions/${x}/attempts`)).body.items as any[];

  test('a confirm that fails twice: every call in order with its status code, and the branch counts 3 calls, the last dtx-attempt sent', async () => {
    let failures = 2;
    s.p.on('confirm', () => (failures-- > 0 ? { status: 503, body: { error: { code: 'DOWN', message: 'wallet down' } } } : { status: 200, body: {} }));
    const res = await api(s.base, 'POST', '/v1/transactions', { drive: true, wait: 5000, branches: [{ branchId: 'a', action: 'w.debit', ...s.p.urls('w.debit') }] });
    expect(res.status).toBe(201);
    const x = res.body.xid;
    await eventually(async () => (await s.get(x)).status === 'committed');

    const confirms = s.p.callsOf('confirm', x);
    expect(confirms.map((c) => c.headers['dtx-attempt'])).toEqual(['1', '2', '3']);
    const tx = await s.get(x);
    expect(tx.branches[0].attempts).toBe(3);
    expect(tx.branches[0].attempts).toBe(Number(confirms.at(-1)!.headers['dtx-attempt']));

    const items = await attempts(x);
    expect(items.map((a) => [a.branchId, a.phase, a.attempt, a.httpStatus, a.ok])).toEqual([
      ['a', 'try', 1, 200, true],
      ['a', 'confirm', 1, 503, false],
      ['a', 'confirm', 2, 503, false],
      ['a', 'confirm', 3, 200, true],
    ]);
    for (const a of items) {
      expect(a.at).toMatch(ISO_MS);
      expect(Number.isInteger(a.durationMs) && a.durationMs >= 0).toBe(true);
    }
    expect(items[1].error).toBe('HTTP 503 DOWN wallet down');
    expect(items[3].error).toBeNull();
    expect(items.map((a) => Date.parse(a.at))).toEqual(items.map((a) => Date.parse(a.at)).sort((p, q) => p - q));
  });

  test('a branch confirmed on its first call counts 1; an initiator-driven transaction keeps only the coordinator\'s calls', async () => {
    const x = await s.begin();
    await s.register(x, 'a');
    await api(s.base, 'POST', `/v1/transactions/${x}/branches/a/try-result`, { ok: true });
    expect(await attempts(x)).toEqual([]);
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: true })).status).toBe(200);
    expect((await s.get(x)).branches[0].attempts).toBe(1);
    expect((await attempts(x)).map((a) => [a.phase, a.attempt, a.httpStatus])).toEqual([['confirm', 1, 200]]);
  });

  test('no answer: httpStatus null and the connection error; cancels are kept too', async () => {
    const x = await s.begin();
    await s.register(x, 'gone', { cancelUrl: 'http://127.0.0.1:1/gone/cancel' });
    await s.register(x, 'b');
    await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { wait: true });
    const items = await eventually(async () => {
      const got = await attempts(x);
      return got.filter((a) => a.branchId === 'gone').length >= 2 ? got : null;
    });
    const gone = items.filter((a) => a.branchId === 'gone');
    expect(gone.every((a) => a.phase === 'cancel' && a.httpStatus === null && a.ok === false)).toBe(true);
    expect(gone[0].error).toMatch(/ECONNREFUSED|connect/);
    expect(gone.map((a) => a.attempt).slice(0, 2)).toEqual([1, 2]);
    expect(items.filter((a) => a.branchId === 'b').map((a) => [a.phase, a.httpStatus, a.ok])).toEqual([['cancel', 200, true]]);
    const tx = await s.get(x);
    expect(tx.branches.find((b: any) => b.branchId === 'gone').attempts).toBeGreaterThanOrEqual(gone.length);
  });

  test(`a branch failing for long keeps its first call and the latest ${ATTEMPTS_KEPT_LATEST}`, async () => {
    const x = await s.begin();
    await s.register(x, 'a');
    let calls = 0;
    const total = ATTEMPTS_KEPT_LATEST + 6;
    s.p.on('confirm', (c) => (c.body.xid !== x || ++calls >= total ? { status: 200, body: {} } : { status: 500, body: {} }));
    await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {});
    await eventually(async () => (await s.get(x)).status === 'committed', 30_000);
    const items = await attempts(x);
    const numbers = items.map((a) => a.attempt);
    expect(numbers[0]).toBe(1);
    expect(numbers.slice(1)).toEqual(Array.from({ length: ATTEMPTS_KEPT_LATEST }, (_, i) => total - ATTEMPTS_KEPT_LATEST + 1 + i));
    expect((await s.get(x)).branches[0].attempts).toBe(total);
  }, 40_000);

  test('404 TX_NOT_FOUND for an unknown xid; the history is pruned with its transaction', async () => {
    expectError(await api(s.base, 'GET', `/v1/transactions/${xid('none')}/attempts`), 404, 'TX_NOT_FOUND');
    const res = await api(s.base, 'POST', '/v1/transactions', { drive: true, wait: true, branches: [{ branchId: 'a', ...s.p.urls('w.a') }] });
    expect(res.body.status).toBe('committed');
    expect(await attempts(res.body.xid)).toHaveLength(2);
    // the log as another coordinator opens it (any store kind), pruning everything finished
    const log = await TransactionLog.open(s.r.db.url);
    try {
      expect(await log.knex('dtx_attempt').where({ xid: res.body.xid })).toHaveLength(2);
      await new Pruner({ log, retentionMs: 1, now: () => Date.now() + 1000 }).pruneOnce();
      expect(await log.knex('dtx_attempt').where({ xid: res.body.xid })).toHaveLength(0);
    } finally {
      await log.close();
    }
    expectError(await api(s.base, 'GET', `/v1/transactions/${res.body.xid}/attempts`), 404, 'TX_NOT_FOUND');
  });
});
