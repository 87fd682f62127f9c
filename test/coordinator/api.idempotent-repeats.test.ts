import { describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { apiSuite, expectError, xid } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** PROTOCOL.md: every write is idempotent; a repeat gives the same answer and writes nothing, a refusal writes nothing. */
describe.each(stores)('repeated and refused writes on %s', (kind) => {
  const s = apiSuite(kind, 'api_repeat');
  const { get, begin, register } = s;
  const report = (x: string, branchId: string, body: object) => api(s.base, 'POST', `/v1/transactions/${x}/branches/${branchId}/try-result`, body);
  /** Lets the clock move on, so a write that should not happen would show in an `updatedAt`. */
  const tick = () => new Promise((res) => setTimeout(res, 15));

  test('a try-result repeated after commit answers 200 as the first time and changes nothing', async () => {
    const x = await begin();
    await register(x, 'a');
    await register(x, 'b');
    const first = await report(x, 'a', { ok: true, result: { hold: 'h-1' } });
    expect(first.status).toBe(200);
    const firstEmpty = await report(x, 'b', { ok: true });
    expect(firstEmpty.status).toBe(200);
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: true })).body).toEqual({ xid: x, status: 'committed' });
    const after = await get(x);
    expect(after.branches.map((b: any) => b.status)).toEqual(['confirmed', 'confirmed']);

    await tick();
    const again = await report(x, 'a', { ok: true, result: { hold: 'h-1' } });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toEqual(first.body);
    const b = await report(x, 'b', { ok: true });
    expect(b.status, JSON.stringify(b.body)).toBe(200);
    expect(b.body).toEqual(firstEmpty.body);

    // a different report after the decision is still refused
    const other = await report(x, 'a', { ok: true, result: { hold: 'h-2' } });
    expectError(other, 409, 'TX_NOT_TRYING');
    expect(other.body.error.details.status).toBe('committed');
    expectError(await report(x, 'a', { ok: true }), 409, 'TX_NOT_TRYING');
    expectError(await report(x, 'a', { ok: false, error: 'late' }), 409, 'TX_NOT_TRYING');
    // a try_failed branch can never be confirmed, so ok:false is no repeat for a confirmed one
    expectError(await report(x, 'b', { ok: false, error: 'late' }), 409, 'TX_NOT_TRYING');
    expect(await get(x)).toEqual(after);
    expect(s.p.callsOf('confirm', x)).toHaveLength(2);
  });

  test('try-results repeated after rollback answer 200 for the same report, 409 for another, and change nothing', async () => {
    const x = await begin();
    await register(x, 'a');
    await register(x, 'b');
    const tried = await report(x, 'a', { ok: true, result: { hold: 7, at: 'x' } });
    const failed = await report(x, 'b', { ok: false, error: 'insufficient funds' });
    expect(failed.body).toEqual({ xid: x, branchId: 'b', status: 'try_failed' });
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {}), 409, 'TX_ROLLED_BACK');
    await eventually(async () => (await get(x)).status === 'rolled_back');
    const after = await get(x);
    expect(after.branches.map((b: any) => b.status)).toEqual(['cancelled', 'cancelled']);

    await tick();
    // the same JSON with its keys in another order is the same result
    const againTried = await report(x, 'a', { ok: true, result: { at: 'x', hold: 7 } });
    expect(againTried.status, JSON.stringify(againTried.body)).toBe(200);
    expect(againTried.body).toEqual(tried.body);
    const againFailed = await report(x, 'b', { ok: false, error: 'insufficient funds' });
    expect(againFailed.status, JSON.stringify(againFailed.body)).toBe(200);
    expect(againFailed.body).toEqual(failed.body);

    for (const [branchId, body] of [
      ['a', { ok: false, error: 'late' }],
      ['a', { ok: true, result: { hold: 8 } }],
      ['b', { ok: true, result: { hold: 1 } }],
    ] as const) {
      const res = await report(x, branchId, body);
      expectError(res, 409, 'TX_NOT_TRYING');
      expect(res.body.error.details.status).toBe('rolled_back');
    }
    expect(await get(x)).toEqual(after);
    expect(s.p.callsOf('cancel', x)).toHaveLength(2);
  });

  test('a failed try repeated while its cancel is still being retried answers 200', async () => {
    const x = await begin();
    await register(x, 'a');
    let healthy = false;
    s.p.on('cancel', () => (healthy ? { status: 200, body: {} } : { status: 503, body: {} }));
    const failed = await report(x, 'a', { ok: false, error: 'no stock' });
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {}), 409, 'TX_ROLLED_BACK');
    // phase 2 keeps its own error on the branch, so the report's text is no longer there to compare
    await eventually(async () => (await get(x)).branches[0].lastError?.includes('503'));
    const again = await report(x, 'a', { ok: false, error: 'no stock' });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toEqual(failed.body);
    expectError(await report(x, 'a', { ok: true }), 409, 'TX_NOT_TRYING');
    expect((await get(x)).branches[0].status).toBe('try_failed');
    healthy = true;
    await eventually(async () => (await get(x)).status === 'rolled_back');
  });

  test('a try-result repeated while trying writes nothing; a corrected one is still taken', async () => {
    const x = await begin();
    await register(x, 'a');
    expect((await report(x, 'a', { ok: true, result: { n: 1 } })).status).toBe(200);
    const before = await get(x);
    await tick();
    expect((await report(x, 'a', { ok: true, result: { n: 1 } })).status).toBe(200);
    expect(await get(x)).toEqual(before);
    await tick();
    const corrected = await report(x, 'a', { ok: false, error: 'undone' });
    expect(corrected.body).toEqual({ xid: x, branchId: 'a', status: 'try_failed' });
    const now = (await get(x)).branches[0];
    expect(now).toMatchObject({ status: 'try_failed', lastError: 'undone' });
    expect(now.tryResult).toBeUndefined();
    expect(now.updatedAt > before.branches[0].updatedAt).toBe(true);
  });

  test('a repeated registration answers 200 and a conflicting one 409, and neither changes the transaction', async () => {
    const x = await begin();
    const created = await register(x, 'a', { payload: { amount: 5 } });
    expect(created.status).toBe(201);
    const before = await get(x);
    await tick();
    const again = await register(x, 'a', { payload: { amount: 5 } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created.body);
    expect(await get(x)).toEqual(before);
    await tick();
    expectError(await register(x, 'a', { payload: { amount: 6 } }), 409, 'BRANCH_CONFLICT');
    expectError(await register(x, 'a', { payload: { amount: 5 }, timeoutMs: 1234 }), 409, 'BRANCH_CONFLICT');
    expect(await get(x)).toEqual(before);

    // a new branch is a write, and shows in updatedAt
    await tick();
    expect((await register(x, 'b')).status).toBe(201);
    const grown = await get(x);
    expect(grown.updatedAt > before.updatedAt).toBe(true);
    expect(grown.branches.map((b: any) => b.branchId)).toEqual(['a', 'b']);

    // after the decision: the same registration is still 200, another one 409 TX_NOT_TRYING, and nothing moves
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { wait: true })).status).toBe(200);
    const done = await get(x);
    await tick();
    expect((await register(x, 'a', { payload: { amount: 5 } })).status).toBe(200);
    expectError(await register(x, 'a', { payload: { amount: 6 } }), 409, 'TX_NOT_TRYING');
    expectError(await register(x, 'c'), 409, 'TX_NOT_TRYING');
    expect(await get(x)).toEqual(done);
  });

  test('concurrent identical registrations create the branch once and touch the transaction once', async () => {
    const x = await begin();
    const answers = await Promise.all(Array.from({ length: 6 }, () => register(x, 'a', { payload: { n: 1 } })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    const tx = await get(x);
    expect(tx.branches).toHaveLength(1);
    expect(tx.updatedAt).toBe(tx.branches[0].updatedAt);
  });
});
