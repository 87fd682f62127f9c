import { beforeEach, describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';
import { apiSuite, expectError, listAll, xid } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** Driven mode: one request runs the whole transaction (PROTOCOL.md "Driven mode" and the answer table). */
describe.each(stores)('driven mode on %s', (kind) => {
  const s = apiSuite(kind, 'api_driven', { callTimeoutMs: 300 });
  beforeEach(() => {
    s.p.on('try', () => ({ status: 200, body: {} }));
  });

  const branch = (id: string, extra: object = {}) => ({ branchId: id, action: `a.${id}`, ...s.p.urls(`a.${id}`), payload: { id }, ...extra });
  const drive = (body: object) => api(s.base, 'POST', '/v1/transactions', { drive: true, ...body });
  const { get } = s;
  const tries = (x: string, id: string) => s.p.callsOf('try', x).filter((c) => c.body.branchId === id);

  test('all tries succeed: committed, tryResult kept and handed to confirm', async () => {
    s.p.on('try', (call) => ({ status: 200, body: { reserved: call.body.branchId } }));
    const res = await drive({ branches: [branch('a'), branch('b')], meta: { k: 1 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'committed' });
    const x = res.body.xid;
    expect(res.body.branches).toEqual([
      { branchId: 'a', status: 'confirmed', tryResult: { reserved: 'a' } },
      { branchId: 'b', status: 'confirmed', tryResult: { reserved: 'b' } },
    ]);
    expect(tries(x, 'a')[0]!.body).toEqual({ xid: x, branchId: 'a', phase: 'try', action: 'a.a', payload: { id: 'a' } });
    const confirms = s.p.callsOf('confirm', x);
    expect(confirms.map((c) => c.body.branchId).sort()).toEqual(['a', 'b']);
    for (const c of confirms) expect(c.body).toEqual({ xid: x, branchId: c.body.branchId, phase: 'confirm', action: `a.${c.body.branchId}`, payload: { id: c.body.branchId }, tryResult: { reserved: c.body.branchId } });
    const tx = await get(x);
    expect(tx.status).toBe('committed');
    expect(tx.meta).toEqual({ k: 1 });
    expect(tx.branches.map((b: any) => [b.status, b.tryResult])).toEqual([
      ['confirmed', { reserved: 'a' }],
      ['confirmed', { reserved: 'b' }],
    ]);
    expect(s.p.callsOf('cancel', x)).toHaveLength(0);
  });

  test('wait: false answers right after the decision; phase 2 finishes afterwards', async () => {
    s.p.on('confirm', () => ({ status: 200, body: {}, delayMs: 600 }));
    const t0 = Date.now();
    const res = await drive({ branches: [branch('a', { timeoutMs: 2000 })], wait: false });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('committing');
    await eventually(async () => (await get(res.body.xid)).status === 'committed');
    expect(s.p.callsOf('confirm', res.body.xid)).toHaveLength(1);
  });

  test('sequential: stops at the first failed try and cancels in reverse registration order', async () => {
    s.p.on('try', (call) => (call.body.branchId === 'b' ? { status: 409, body: { error: 'no stock' } } : { status: 200, body: { ok: call.body.branchId } }));
    const res = await drive({ branches: [branch('a'), branch('b'), branch('c')], order: 'sequential' });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('rolled_back');
    const x = res.body.xid;
    expect(s.p.callsOf('try', x).map((c) => c.body.branchId)).toEqual(['a', 'b']);
    expect(s.p.callsOf('cancel', x).map((c) => c.body.branchId)).toEqual(['c', 'b', 'a']);
    expect(s.p.callsOf('confirm', x)).toHaveLength(0);
    const tx = await get(x);
    expect(tx.reason).toMatch(/try failed/);
    expect(tx.branches.map((b: any) => b.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(s.p.callsOf('cancel', x)[2]!.body.tryResult).toEqual({ ok: 'a' });
  });

  test('sequential: tries and confirms go in array order, one at a time', async () => {
    s.p.on('try', (call) => ({ status: 200, body: {}, delayMs: call.body.branchId === 'a' ? 80 : 0 }));
    s.p.on('confirm', (call) => ({ status: 200, body: {}, delayMs: call.body.branchId === 'a' ? 80 : 0 }));
    const res = await drive({ branches: [branch('a'), branch('b'), branch('c')], order: 'sequential' });
    expect(res.body.status).toBe('committed');
    expect(s.p.callsOf('try', res.body.xid).map((c) => c.body.branchId)).toEqual(['a', 'b', 'c']);
    expect(s.p.callsOf('confirm', res.body.xid).map((c) => c.body.branchId)).toEqual(['a', 'b', 'c']);
  });

  test('parallel: every try is called; one rejection rolls all back', async () => {
    s.p.on('try', (call) => (call.body.branchId === 'b' ? { status: 422, body: {} } : { status: 200, body: {} }));
    const res = await drive({ branches: [branch('a'), branch('b'), branch('c')] });
    expect(res.body.status).toBe('rolled_back');
    const x = res.body.xid;
    expect(s.p.callsOf('try', x).map((c) => c.body.branchId).sort()).toEqual(['a', 'b', 'c']);
    expect(s.p.callsOf('cancel', x).map((c) => c.body.branchId).sort()).toEqual(['a', 'b', 'c']);
  });

  for (const status of [409, 422, 400, 404]) {
    test(`a try answering ${status} rolls back without a retry`, async () => {
      s.p.on('try', () => ({ status, body: { error: 'refused' } }));
      const res = await drive({ branches: [branch('a')] });
      expect(res.status).toBe(201);
      expect(res.body.status).toBe('rolled_back');
      expect(tries(res.body.xid, 'a')).toHaveLength(1);
      expect(s.p.callsOf('cancel', res.body.xid)).toHaveLength(1);
      expect((await get(res.body.xid)).reason).toContain(`HTTP ${status}`);
    });
  }

  for (const status of [500, 503, 408, 429]) {
    test(`a try answering ${status} is retried, with dtx-attempt counting up, then commits`, async () => {
      let n = 0;
      s.p.on('try', () => (++n <= 2 ? { status, body: {} } : { status: 200, body: { third: true } }));
      const res = await drive({ branches: [branch('a')] });
      expect(res.body.status).toBe('committed');
      const calls = tries(res.body.xid, 'a');
      expect(calls.map((c) => c.headers['dtx-attempt'])).toEqual(['1', '2', '3']);
      expect(s.p.callsOf('confirm', res.body.xid)[0]!.body.tryResult).toEqual({ third: true });
    });
  }

  test('Retry-After on a try is honoured', async () => {
    let n = 0;
    s.p.on('try', () => (++n === 1 ? { status: 429, body: {}, headers: { 'retry-after': '1' } } : { status: 200, body: {} }));
    const res = await drive({ branches: [branch('a')], timeoutMs: 5000 });
    expect(res.body.status).toBe('committed');
    const [first, second] = tries(res.body.xid, 'a');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
  });

  test('repeating a driven request while it runs answers 200 with its outcome and calls no try twice', async () => {
    const x = xid('inflight');
    s.p.on('try', () => ({ status: 200, body: { slow: true }, delayMs: 400 }));
    const body = { xid: x, branches: [branch('a', { timeoutMs: 2000 })] };
    const first = drive(body);
    await new Promise((res) => setTimeout(res, 100));
    const again = await drive(body);
    expect(again.status).toBe(200);
    // the same request, the same result: the first driver's outcome, waited for
    expect(again.body).toMatchObject({ xid: x, status: 'committed' });
    expect((await first).body.status).toBe('committed');
    expect(tries(x, 'a')).toHaveLength(1);
    expect(s.p.callsOf('confirm', x)).toHaveLength(1);
  });

  test('a try that times out is retried within the deadline', async () => {
    let n = 0;
    s.p.on('try', () => (++n === 1 ? { status: 200, body: { slow: true }, delayMs: 500 } : { status: 200, body: { fast: true } }));
    const res = await drive({ branches: [branch('a', { timeoutMs: 150 })] });
    expect(res.body.status).toBe('committed');
    expect(tries(res.body.xid, 'a')).toHaveLength(2);
    expect(res.body.branches[0].tryResult).toEqual({ fast: true });
  });

  test('a refused connection is retried until the participant is up', async () => {
    const late = await new TestParticipant().start();
    const port = late.port;
    const urls = late.urls('a.late');
    await late.close();
    const pending = drive({ branches: [{ branchId: 'late', ...urls }], timeoutMs: 5000 });
    await new Promise((res) => setTimeout(res, 300));
    await late.start(port);
    try {
      const res = await pending;
      expect(res.body.status).toBe('committed');
      expect(late.callsOf('try', res.body.xid).length).toBeGreaterThanOrEqual(1);
      expect(Number(late.callsOf('try', res.body.xid)[0]!.headers['dtx-attempt'])).toBeGreaterThan(1);
      expect(late.callsOf('confirm', res.body.xid)).toHaveLength(1);
    } finally {
      await late.close();
    }
  });

  test('a try that keeps failing transiently is rolled back at the deadline', async () => {
    s.p.on('try', () => ({ status: 503, body: {} }));
    const t0 = Date.now();
    const res = await drive({ branches: [branch('a')], timeoutMs: 1000 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(res.body.status).toBe('rolled_back');
    expect(tries(res.body.xid, 'a').length).toBeGreaterThan(2);
    expect(s.p.callsOf('cancel', res.body.xid)).toHaveLength(1);
    expect((await get(res.body.xid)).reason).toMatch(/HTTP 503/);
  });

  test('driven requests that cannot run are refused and write nothing', async () => {
    const x1 = xid('nobr');
    expectError(await drive({ xid: x1, branches: [] }), 400, 'INVALID_REQUEST');
    expectError(await drive({ xid: x1 }), 400, 'INVALID_REQUEST');
    const { tryUrl: _omit, ...noTry } = branch('a');
    expectError(await drive({ xid: x1, branches: [noTry] }), 400, 'INVALID_REQUEST');
    expectError(await drive({ xid: x1, branches: [branch('a'), branch('a')] }), 400, 'INVALID_REQUEST');
    expectError(await drive({ xid: x1, branches: [branch('a')], order: 'random' }), 400, 'INVALID_REQUEST');
    expectError(await api(s.base, 'GET', `/v1/transactions/${x1}`), 404, 'TX_NOT_FOUND');
    expect((await listAll(s.base)).some((t) => t.xid === x1)).toBe(false);
    expect(s.p.callsOf('try', x1)).toHaveLength(0);
  });

  test('repeating a finished driven transaction with its xid is 409 TX_EXISTS and calls nobody again', async () => {
    const x = xid('again');
    const first = await drive({ xid: x, branches: [branch('a')] });
    expect(first.body.status).toBe('committed');
    const again = await drive({ xid: x, branches: [branch('a')] });
    expectError(again, 409, 'TX_EXISTS');
    expect(again.body.error.details.status).toBe('committed');
    expect(tries(x, 'a')).toHaveLength(1);
    expect(s.p.callsOf('confirm', x)).toHaveLength(1);
  });
});
