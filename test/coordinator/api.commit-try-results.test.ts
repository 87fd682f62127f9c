import { describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { apiSuite, expectError } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** PROTOCOL.md v1.1 "Shorter initiator flow": branches on a begin without drive, and a commit carrying `tryResults`. */
describe.each(stores)('commit with tryResults on %s', (kind) => {
  const s = apiSuite(kind, 'api_try_results');
  const { get } = s;
  const branch = (branchId: string, extra: object = {}) => ({ branchId, action: `act.${branchId}`, ...s.p.urls(`act.${branchId}`), ...extra });
  const beginWith = async (...branchIds: string[]) => {
    const res = await api(s.base, 'POST', '/v1/transactions', { branches: branchIds.map((b) => branch(b, { payload: { n: b } })) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.xid as string;
  };

  test('a begin lists its branches (registered, not tried) and a commit records the try results with the decision: two requests', async () => {
    const x = await beginWith('a', 'b');
    expect((await get(x)).branches.map((b: any) => [b.branchId, b.status])).toEqual([['a', 'registered'], ['b', 'registered']]);
    const done = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: true, tryResults: { a: { ok: true, result: { hold: 'h-a' } }, b: { ok: true } } });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ xid: x, status: 'committed' });
    const confirms = s.p.callsOf('confirm', x).map((c) => c.body).sort((p, q) => p.branchId.localeCompare(q.branchId));
    expect(confirms).toEqual([
      { xid: x, branchId: 'a', phase: 'confirm', action: 'act.a', payload: { n: 'a' }, tryResult: { hold: 'h-a' } },
      { xid: x, branchId: 'b', phase: 'confirm', action: 'act.b', payload: { n: 'b' } },
    ]);
    expect((await get(x)).branches.map((b: any) => b.status)).toEqual(['confirmed', 'confirmed']);
  });

  test('an ok:false entry turns the commit into a rollback: 409 TX_ROLLED_BACK, the failure recorded, every branch cancelled with what it returned', async () => {
    const x = await beginWith('a', 'b');
    const c = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { tryResults: { a: { ok: true, result: { hold: 7 } }, b: { ok: false, error: 'insufficient funds' } } });
    expectError(c, 409, 'TX_ROLLED_BACK');
    await eventually(async () => (await get(x)).status === 'rolled_back');
    const tx = await get(x);
    expect(tx.reason).toBe('try failed: branch b');
    expect(tx.branches.map((b: any) => b.status)).toEqual(['cancelled', 'cancelled']);
    expect(s.p.callsOf('cancel', x).find((k) => k.body.branchId === 'a')!.body.tryResult).toEqual({ hold: 7 });
    expect(s.p.callsOf('confirm', x)).toHaveLength(0);
  });

  test('an unknown branch in tryResults: 404 BRANCH_NOT_FOUND, and nothing is recorded or decided', async () => {
    const x = await beginWith('a');
    const before = await get(x);
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { tryResults: { a: { ok: true, result: { hold: 1 } }, nope: { ok: true } } }), 404, 'BRANCH_NOT_FOUND');
    const after = await get(x);
    expect(after).toEqual(before); // still trying, branch a still registered with no result, same updatedAt
    // the same commit without the stray entry goes through
    const ok = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: true, tryResults: { a: { ok: true, result: { hold: 1 } } } });
    expect(ok.body.status).toBe('committed');
  });

  test('a repeated commit with the same tryResults answers the current status and changes nothing', async () => {
    const x = await beginWith('a');
    const body = { wait: true, tryResults: { a: { ok: true, result: { hold: 2 } } } };
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/commit`, body)).body.status).toBe('committed');
    const again = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ xid: x, status: 'committed' });
    expect(s.p.callsOf('confirm', x)).toHaveLength(1);
    // after a rollback, a commit with results is refused and writes nothing either
    const y = await beginWith('a');
    await api(s.base, 'POST', `/v1/transactions/${y}/rollback`, { wait: true });
    expectError(await api(s.base, 'POST', `/v1/transactions/${y}/commit`, body), 409, 'TX_ROLLED_BACK');
    expect((await get(y)).branches[0]).toMatchObject({ status: 'cancelled' });
    expect((await get(y)).branches[0].tryResult).toBeUndefined();
  });

  test('bad tryResults are refused with 400 INVALID_REQUEST or 413, and change nothing', async () => {
    const x = await beginWith('a');
    const before = await get(x);
    const bad: object[] = [
      { tryResults: [] },
      { tryResults: { a: { result: 1 } } },
      { tryResults: { a: { ok: 'yes' } } },
      { tryResults: { 'bad id!': { ok: true } } },
      { tryResults: { a: { ok: false, error: 'x'.repeat(2001) } } },
    ];
    for (const body of bad) expectError(await api(s.base, 'POST', `/v1/transactions/${x}/commit`, body), 400, 'INVALID_REQUEST');
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { tryResults: { a: { ok: true, result: 'x'.repeat(70 * 1024) } } }), 413, 'PAYLOAD_TOO_LARGE');
    expect(await get(x)).toEqual(before);
  });

  test('many concurrent commits with results (one group commit) each record their own results and commit', async () => {
    const xids = await Promise.all(Array.from({ length: 40 }, () => beginWith('a', 'b')));
    const answers = await Promise.all(
      xids.map((x, i) => api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: true, tryResults: { a: { ok: true, result: { i } }, b: { ok: true, result: { j: i + 100 } } } })),
    );
    expect(answers.map((a) => a.body.status)).toEqual(xids.map(() => 'committed'));
    for (const [i, x] of xids.entries()) {
      const got = s.p.callsOf('confirm', x).map((c) => [c.body.branchId, c.body.tryResult]).sort();
      expect(got).toEqual([['a', { i }], ['b', { j: i + 100 }]]);
    }
    // one of them failing sends the batch back to one-by-one: the others still commit
    const more = await Promise.all(Array.from({ length: 10 }, () => beginWith('a')));
    const mixed = await Promise.all(more.map((x, i) => api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: true, tryResults: { a: i === 3 ? { ok: false, error: 'no' } : { ok: true } } })));
    expect(mixed.map((a) => a.status)).toEqual(more.map((_, i) => (i === 3 ? 409 : 200)));
  });
});
