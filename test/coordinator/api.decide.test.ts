import { describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { apiSuite, expectError, ISO_MS, xid } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** Try-result, commit and rollback, initiator-driven (PROTOCOL.md "Coordinator API"). */
describe.each(stores)('try-result, commit and rollback on %s', (kind) => {
  const s = apiSuite(kind, 'api_decide');
  const { get, begin, register } = s;

  test('try-result marks the branch and hands tryResult to confirm', async () => {
    const x = await begin();
    await register(x, 'a', { payload: { amount: 5 } });
    await register(x, 'b');
    const ok = await api(s.base, 'POST', `/v1/transactions/${x}/branches/a/try-result`, { ok: true, result: { hold: 'h-1' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ xid: x, branchId: 'a', status: 'tried' });
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/branches/a/try-result`, { ok: true, result: { hold: 'h-1' } })).status).toBe(200);
    const tx = await get(x);
    expect(tx.branches[0]).toMatchObject({ branchId: 'a', status: 'tried', tryResult: { hold: 'h-1' } });
    expect(tx.branches[1].status).toBe('registered');

    const done = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: true });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ xid: x, status: 'committed' });
    const [ca] = s.p.callsOf('confirm', x).filter((c) => c.body.branchId === 'a');
    expect(ca!.body).toEqual({ xid: x, branchId: 'a', phase: 'confirm', action: 'act.a', payload: { amount: 5 }, tryResult: { hold: 'h-1' } });
    // a registered branch whose try outcome was never reported is confirmed too
    expect(s.p.callsOf('confirm', x).map((c) => c.body.branchId).sort()).toEqual(['a', 'b']);
    expect((await get(x)).branches.map((b: any) => b.status)).toEqual(['confirmed', 'confirmed']);
    // a different report after the decision is refused
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/branches/a/try-result`, { ok: false, error: 'late' }), 409, 'TX_NOT_TRYING');
  });

  test('a failed try makes commit roll back: 409 TX_ROLLED_BACK and every branch cancelled with its tryResult', async () => {
    const x = await begin();
    await register(x, 'a');
    await register(x, 'b');
    await api(s.base, 'POST', `/v1/transactions/${x}/branches/a/try-result`, { ok: true, result: { hold: 7 } });
    const failed = await api(s.base, 'POST', `/v1/transactions/${x}/branches/b/try-result`, { ok: false, error: 'insufficient funds' });
    expect(failed.body.status).toBe('try_failed');
    expect((await get(x)).branches[1]).toMatchObject({ status: 'try_failed', lastError: 'insufficient funds' });
    const c = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {});
    expectError(c, 409, 'TX_ROLLED_BACK');
    await eventually(async () => (await get(x)).status === 'rolled_back');
    const tx = await get(x);
    expect(tx.reason).toMatch(/try failed/);
    expect(tx.branches.map((b: any) => b.status)).toEqual(['cancelled', 'cancelled']);
    expect(s.p.callsOf('cancel', x).find((k) => k.body.branchId === 'a')!.body.tryResult).toEqual({ hold: 7 });
    expect(s.p.callsOf('confirm', x)).toHaveLength(0);
  });

  test('commit: 202 once decided, wait → 200 final, repeat → current status, rollback → 409 TX_COMMITTED', async () => {
    const x = await begin();
    await register(x, 'a');
    s.p.on('confirm', () => ({ status: 200, body: {}, delayMs: 400 }));
    const first = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {});
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ xid: x, status: 'committing' });
    expect((await get(x)).status).toBe('committing');
    const repeat = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: 50 });
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual({ xid: x, status: 'committing' });
    const opposite = await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, {});
    expectError(opposite, 409, 'TX_COMMITTED');
    expect(opposite.body.error.details.status).toBe('committing');
    const waited = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: 5000 });
    expect(waited.status).toBe(200);
    expect(waited.body).toEqual({ xid: x, status: 'committed' });
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {})).body).toEqual({ xid: x, status: 'committed' });
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { wait: true }), 409, 'TX_COMMITTED');
    expect(s.p.callsOf('confirm', x)).toHaveLength(1);
    expect(s.p.callsOf('cancel', x)).toHaveLength(0);
  });

  test('wait: a number of ms waits across phase-2 retries; true waits for the first round', async () => {
    const x = await begin();
    await register(x, 'a');
    let failures = 2;
    s.p.on('confirm', () => (failures-- > 0 ? { status: 503, body: {} } : { status: 200, body: {} }));
    const res = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: 5000 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ xid: x, status: 'committed' });
    expect(s.p.callsOf('confirm', x)).toHaveLength(3);
    const z = await begin();
    await register(z, 'a');
    s.p.on('confirm', () => ({ status: 503, body: {} }));
    const round = await api(s.base, 'POST', `/v1/transactions/${z}/commit`, { wait: true });
    expect(round.status).toBe(202);
    expect(round.body).toEqual({ xid: z, status: 'committing' });
    expect((await get(z)).attempts).toBeGreaterThanOrEqual(1);
    // a number of milliseconds that runs out first answers 202 with the current status
    const y = await begin();
    await register(y, 'a');
    s.p.on('confirm', () => ({ status: 503, body: {} }));
    const t0 = Date.now();
    const short = await api(s.base, 'POST', `/v1/transactions/${y}/commit`, { wait: 300 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(short.status).toBe(202);
    expect(short.body).toEqual({ xid: y, status: 'committing' });
    s.p.on('confirm', () => ({ status: 200, body: {} }));
    for (const t of [y, z]) {
      const later = await api(s.base, 'POST', `/v1/transactions/${t}/commit`, { wait: 5000 });
      expect(later.status).toBe(200);
      expect(later.body.status).toBe('committed');
    }
  });

  test('rollback: 202 then rolled_back with its reason; repeat → 200; commit → 409 TX_ROLLED_BACK', async () => {
    const x = await begin({ meta: { order: 42 } });
    await register(x, 'a');
    await register(x, 'b');
    const first = await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { reason: 'user cancelled' });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ xid: x, status: 'rolling_back' });
    await eventually(async () => (await get(x)).status === 'rolled_back');
    const tx = await get(x);
    expect(tx.reason).toBe('user cancelled');
    expect(tx.finishedAt).toMatch(ISO_MS);
    expect(tx.branches.map((b: any) => b.status)).toEqual(['cancelled', 'cancelled']);
    const repeat = await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { wait: true });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual({ xid: x, status: 'rolled_back' });
    const c = await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: true });
    expectError(c, 409, 'TX_ROLLED_BACK');
    expect(c.body.error.details.status).toBe('rolled_back');
    expect(s.p.callsOf('cancel', x)).toHaveLength(2);
    expect(s.p.callsOf('confirm', x)).toHaveLength(0);
  });

  test('concurrent commits and rollbacks decide once', async () => {
    const x = await begin();
    await register(x, 'a');
    const verbs = Array.from({ length: 10 }, (_, i) => (i % 2 ? 'commit' : 'rollback'));
    const answers = await Promise.all(verbs.map((v) => api(s.base, 'POST', `/v1/transactions/${x}/${v}`, { wait: true })));
    await eventually(async () => ['committed', 'rolled_back'].includes((await get(x)).status));
    const final = (await get(x)).status;
    const won = final === 'committed' ? 'commit' : 'rollback';
    answers.forEach((a, i) => {
      if (verbs[i] === won) expect(a.status).toBe(200);
      else expectError(a, 409, won === 'commit' ? 'TX_COMMITTED' : 'TX_ROLLED_BACK');
    });
    expect(s.p.callsOf(won === 'commit' ? 'confirm' : 'cancel', x)).toHaveLength(1);
    expect(s.p.callsOf(won === 'commit' ? 'cancel' : 'confirm', x)).toHaveLength(0);
  });

  test('recovery rolls back a trying transaction past its deadline; late registrations get TX_NOT_TRYING', async () => {
    const x = await begin({ timeoutMs: 1000 });
    await register(x, 'a');
    await api(s.base, 'POST', `/v1/transactions/${x}/branches/a/try-result`, { ok: true, result: { r: 1 } });
    await eventually(async () => (await get(x)).status === 'rolled_back', 5000, 20);
    const t = await get(x);
    expect(t.reason).toBe('timeout');
    expect(t.branches[0].status).toBe('cancelled');
    expect(s.p.callsOf('cancel', x)[0]!.body.tryResult).toEqual({ r: 1 });
    const late = await register(x, 'b');
    expectError(late, 409, 'TX_NOT_TRYING');
    expect(late.body.error.details.status).toBe('rolled_back');
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/branches/a/try-result`, { ok: false, error: 'x' }), 409, 'TX_NOT_TRYING');
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {}), 409, 'TX_ROLLED_BACK');
  });

  test('commit after the deadline rolls back (reason timeout) and answers 409 TX_ROLLED_BACK', async () => {
    const x = await begin({ timeoutMs: 1000 });
    await register(x, 'a');
    await new Promise((res) => setTimeout(res, 1100));
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {}), 409, 'TX_ROLLED_BACK');
    await eventually(async () => (await get(x)).status === 'rolled_back');
    expect((await get(x)).reason).toBe('timeout');
    expect(s.p.callsOf('cancel', x)).toHaveLength(1);
    expect(s.p.callsOf('confirm', x)).toHaveLength(0);
  });
});
