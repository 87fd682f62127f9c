import { verifySignature } from '@dtx/protocol';
import { beforeEach, describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { apiSuite, expectError, listAll, openStore, xid } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);
const SECRET = 'msg-conformance-secret';

/** Message mode, PROTOCOL.md v1.2 "Message": prepared, then delivered until every step answers 2xx, or checked back. */
describe.each(stores)('message on %s', (kind) => {
  const s = apiSuite(kind, 'api_msg', { callTimeoutMs: 1000, signingSecret: SECRET, stuckAfterAttempts: 3 });
  beforeEach(() => {
    s.p.on('action', () => ({ status: 200, body: {} })).on('check', () => ({ status: 200, body: {} }));
  });

  const step = (id: string, extra: object = {}) => ({ branchId: id, action: `m.${id}`, actionUrl: s.p.sagaUrls(`m.${id}`).actionUrl, payload: { id }, ...extra });
  const prepare = (body: object) => api(s.base, 'POST', '/v1/transactions', { mode: 'msg', checkUrl: s.p.checkUrl, ...body });
  const commit = (x: string, body: object = { wait: 5000 }) => api(s.base, 'POST', `/v1/transactions/${x}/commit`, body);
  const deliveries = (x: string) => s.p.callsOf('action', x).map((c) => c.body.branchId);
  const checks = (x: string) => s.p.callsOf('check', x);
  const attempts = async (x: string) => (await api(s.base, 'GET', `/v1/transactions/${x}/attempts`)).body.items as any[];
  const final = (x: string) =>
    eventually(async () => {
      const t = await s.get(x);
      return t.status === 'committed' || t.status === 'rolled_back' ? t : null;
    });

  test('prepared: 201 trying, nothing called; the commit delivers every step in array order, then committed', async () => {
    const x = xid('msg');
    const res = await prepare({ xid: x, steps: [step('a'), step('b'), step('c')], meta: { k: 1 } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ xid: x, mode: 'msg', status: 'trying' });
    expect(res.body.branches).toEqual([
      { branchId: 'a', status: 'registered' },
      { branchId: 'b', status: 'registered' },
      { branchId: 'c', status: 'registered' },
    ]);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.p.calls.filter((c) => c.body.xid === x)).toEqual([]);
    expect(await s.get(x)).toMatchObject({ mode: 'msg', status: 'trying', meta: { k: 1 } });

    s.p.on('action', (call) => ({ status: 200, body: {}, delayMs: call.body.branchId === 'a' ? 300 : 0 }));
    const c = await commit(x, { wait: true });
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body).toEqual({ xid: x, status: 'committed' });
    expect(deliveries(x)).toEqual(['a', 'b', 'c']);
    const calls = s.p.callsOf('action', x);
    expect(calls[0]!.body).toEqual({ xid: x, branchId: 'a', action: 'm.a', phase: 'action', payload: { id: 'a' } });
    expect(calls[1]!.headers).toMatchObject({ 'dtx-phase': 'action', 'dtx-branch-id': 'b', 'dtx-xid': x, 'dtx-attempt': '1' });
    // one at a time: b is called once a answered
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(280);
    expect(calls[2]!.at).toBeGreaterThanOrEqual(calls[1]!.at);
    expect(checks(x)).toEqual([]);
    const tx = await s.get(x);
    expect(tx).toMatchObject({ mode: 'msg', status: 'committed', stuck: false });
    expect(tx.branches.map((b: any) => [b.branchId, b.status, b.attempts])).toEqual([
      ['a', 'delivered', 1],
      ['b', 'delivered', 1],
      ['c', 'delivered', 1],
    ]);
    expect((await attempts(x)).map((a) => [a.branchId, a.phase, a.httpStatus, a.ok])).toEqual([
      ['a', 'action', 200, true],
      ['b', 'action', 200, true],
      ['c', 'action', 200, true],
    ]);
  });

  test('by after: independent steps side by side, a joining step once both are delivered', async () => {
    const x = xid('msg');
    s.p.on('action', (call) => ({ status: 200, body: {}, delayMs: call.body.branchId === 'join' ? 0 : 500 }));
    expect((await prepare({ xid: x, steps: [step('join', { after: ['a', 'b'] }), step('a', { after: [] }), step('b', { after: [] })] })).status).toBe(201);
    expect((await commit(x, { wait: true })).body.status).toBe('committed');
    const [first, second, join] = [...s.p.callsOf('action', x)].sort((p, q) => p.at - q.at);
    expect([first!.body.branchId, second!.body.branchId].sort()).toEqual(['a', 'b']);
    expect(Math.abs(second!.at - first!.at)).toBeLessThan(400);
    expect(join!.body.branchId).toBe('join');
    expect(join!.at - Math.max(first!.at, second!.at)).toBeGreaterThanOrEqual(450);
  });

  test('a 5xx step is retried with backoff until 2xx; a delivered step is not called again, the next waits for it', async () => {
    const x = xid('msg');
    let failures = 2;
    s.p.on('action', (call) => (call.body.branchId === 'b' && failures-- > 0 ? { status: 503, body: { error: 'busy' } } : { status: 200, body: {} }));
    await prepare({ xid: x, steps: [step('a'), step('b'), step('c')] });
    const c = await commit(x);
    expect(c.status).toBe(200);
    expect(c.body.status).toBe('committed');
    expect(deliveries(x)).toEqual(['a', 'b', 'b', 'b', 'c']);
    const b = s.p.callsOf('action', x).filter((call) => call.body.branchId === 'b');
    expect(b.map((call) => call.headers['dtx-attempt'])).toEqual(['1', '2', '3']);
    const tx = await s.get(x);
    expect(tx.branches.map((br: any) => [br.branchId, br.status, br.attempts])).toEqual([
      ['a', 'delivered', 1],
      ['b', 'delivered', 3],
      ['c', 'delivered', 1],
    ]);
    expect((await attempts(x)).filter((a) => a.branchId === 'b').map((a) => [a.attempt, a.httpStatus])).toEqual([
      [1, 503],
      [2, 503],
      [3, 200],
    ]);
  });

  test('a 409 is retried like any failure, never compensated', async () => {
    const x = xid('msg');
    let refusals = 2;
    s.p.on('action', (call) => (call.body.branchId === 'a' && refusals-- > 0 ? { status: 409, body: { error: 'not now' } } : { status: 200, body: {} }));
    await prepare({ xid: x, steps: [step('a'), step('b')] });
    expect((await commit(x)).body.status).toBe('committed');
    expect(deliveries(x)).toEqual(['a', 'a', 'a', 'b']);
    expect(s.p.callsOf('compensate', x)).toEqual([]);
    expect(s.p.callsOf('cancel', x)).toEqual([]);
  });

  test('a step that never succeeds is retried, never given up: stuck after stuckAfterAttempts rounds, still committing', async () => {
    const x = xid('msg');
    s.p.on('action', (call) => (call.body.branchId === 'b' ? { status: 500 } : { status: 200, body: {} }));
    await prepare({ xid: x, steps: [step('a'), step('b')] });
    expect((await commit(x, {})).status).toBe(202);
    const tx = await eventually(async () => {
      const t = await s.get(x);
      return t.stuck ? t : null;
    });
    expect(tx).toMatchObject({ status: 'committing', stuck: true });
    expect(tx.attempts).toBeGreaterThanOrEqual(3);
    expect(tx.lastError).toMatch(/action m\.b: HTTP 500/);
    expect(tx.branches.map((b: any) => b.status)).toEqual(['delivered', 'registered']);
    s.p.on('action', () => ({ status: 200, body: {} }));
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/retry`)).status).toBe(202);
    expect(await final(x)).toMatchObject({ status: 'committed', stuck: false });
    expect(deliveries(x).filter((id) => id === 'a')).toHaveLength(1);
  });

  test('rollback while trying: rolled_back at once, nothing called; commit after it is TX_ROLLED_BACK', async () => {
    const x = xid('msg');
    await prepare({ xid: x, steps: [step('a'), step('b')] });
    const rb = await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { reason: 'producer gave up' });
    expect(rb.status).toBe(200);
    expect(rb.body).toEqual({ xid: x, status: 'rolled_back' });
    const again = await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, {});
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('rolled_back');
    expectError(await commit(x), 409, 'TX_ROLLED_BACK');
    await new Promise((r) => setTimeout(r, 200));
    expect(s.p.calls.filter((c) => c.body.xid === x)).toEqual([]);
    const tx = await s.get(x);
    expect(tx).toMatchObject({ status: 'rolled_back', reason: 'producer gave up' });
    expect(tx.branches.map((b: any) => b.status)).toEqual(['registered', 'registered']);
    expect(await attempts(x)).toEqual([]);
  });

  test('still trying at its deadline: checked back (signed); 200 commits and delivers', async () => {
    const x = xid('msg');
    await prepare({ xid: x, timeoutMs: 1000, steps: [step('a'), step('b')] });
    const tx = await final(x);
    expect(tx.status).toBe('committed');
    expect(tx.branches.map((b: any) => b.status)).toEqual(['delivered', 'delivered']);
    const [check] = checks(x);
    expect(check!.body).toEqual({ xid: x, phase: 'check' });
    expect(check!.headers).toMatchObject({ 'dtx-xid': x, 'dtx-phase': 'check', 'dtx-branch-id': 'msg', 'dtx-attempt': '1' });
    expect(verifySignature(SECRET, check!.headers['dtx-signature'] as string, check!.rawBody, { destination: s.p.checkUrl })).toEqual({ ok: true });
    expect(check!.at).toBeGreaterThanOrEqual(Date.parse((await s.get(x)).deadline));
    expect(deliveries(x)).toEqual(['a', 'b']);
    expect((await attempts(x)).map((a) => [a.branchId, a.phase, a.httpStatus])).toEqual([
      ['msg', 'check', 200],
      ['a', 'action', 200],
      ['b', 'action', 200],
    ]);
  });

  test('check-back 409: rolled_back, no step called', async () => {
    const x = xid('msg');
    s.p.on('check', () => ({ status: 409, body: {} }));
    await prepare({ xid: x, timeoutMs: 1000, steps: [step('a')] });
    const tx = await final(x);
    expect(tx.status).toBe('rolled_back');
    expect(tx.reason).toMatch(/check-back/);
    expect(tx.branches.map((b: any) => b.status)).toEqual(['registered']);
    await new Promise((r) => setTimeout(r, 200));
    expect(deliveries(x)).toEqual([]);
    expect(checks(x)).toHaveLength(1);
    expect((await attempts(x)).map((a) => [a.phase, a.httpStatus, a.ok])).toEqual([['check', 409, false]]);
    expectError(await commit(x), 409, 'TX_ROLLED_BACK');
  });

  test('check-back 500 then 200: asked again with backoff past the deadline, then delivered', async () => {
    const x = xid('msg');
    let failures = 2;
    s.p.on('check', () => (failures-- > 0 ? { status: 500, body: {} } : { status: 200, body: {} }));
    await prepare({ xid: x, timeoutMs: 1000, steps: [step('a')] });
    const tx = await final(x);
    expect(tx).toMatchObject({ status: 'committed', stuck: false, lastError: null });
    expect(checks(x).map((c) => c.headers['dtx-attempt'])).toEqual(['1', '2', '3']);
    expect(deliveries(x)).toEqual(['a']);
    expect((await attempts(x)).map((a) => [a.phase, a.attempt, a.httpStatus])).toEqual([
      ['check', 1, 500],
      ['check', 2, 500],
      ['check', 3, 200],
      ['action', 1, 200],
    ]);
  });

  test('a check-back that never answers 200 or 409 is flagged stuck, still trying; a late commit delivers it', async () => {
    const x = xid('msg');
    s.p.on('check', () => ({ status: 503, body: {} }));
    await prepare({ xid: x, timeoutMs: 1000, steps: [step('a')] });
    const stuck = await eventually(async () => {
      const t = await s.get(x);
      return t.stuck ? t : null;
    });
    expect(stuck).toMatchObject({ status: 'trying', stuck: true });
    expect(stuck.lastError).toMatch(/check: HTTP 503/);
    expect(deliveries(x)).toEqual([]);
    const c = await commit(x, { wait: true });
    expect(c.body).toEqual({ xid: x, status: 'committed' });
    expect(await s.get(x)).toMatchObject({ status: 'committed', stuck: false });
  });

  test('repeats: the same begin answers its state, other settings are TX_EXISTS; a repeated commit delivers nothing twice', async () => {
    const x = xid('msg');
    const body = { xid: x, steps: [step('a'), step('b')] };
    const first = await prepare(body);
    expect(first.status).toBe(201);
    const again = await prepare(body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expectError(await prepare({ ...body, steps: [step('a'), step('b', { payload: { other: 1 } })] }), 409, 'TX_EXISTS');
    expectError(await prepare({ ...body, checkUrl: `${s.p.url}/other/check` }), 409, 'TX_EXISTS');
    expectError(await api(s.base, 'POST', '/v1/transactions', { xid: x }), 409, 'TX_EXISTS');
    expectError(await api(s.base, 'POST', '/v1/transactions', { mode: 'saga', xid: x, steps: [{ ...step('a'), compensateUrl: `${s.p.url}/m.a/compensate` }] }), 409, 'TX_EXISTS');
    const c1 = await commit(x, { wait: true });
    const c2 = await commit(x, { wait: true });
    expect([c1.status, c1.body, c2.status, c2.body]).toEqual([200, { xid: x, status: 'committed' }, 200, { xid: x, status: 'committed' }]);
    expect(deliveries(x)).toEqual(['a', 'b']);
    const repeated = await prepare(body);
    expect(repeated.status).toBe(200);
    expect(repeated.body.status).toBe('committed');
    expect(repeated.body.branches.map((b: any) => b.status)).toEqual(['delivered', 'delivered']);
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, {}), 409, 'TX_COMMITTED');
  });

  test('bad input is refused with a stable code and nothing written', async () => {
    const x = xid('bad');
    const bad: [string, object][] = [
      ['no checkUrl', { checkUrl: undefined, steps: [step('a')] }],
      ['relative checkUrl', { checkUrl: '/check', steps: [step('a')] }],
      ['compensateUrl given', { steps: [step('a', { compensateUrl: `${s.p.url}/m.a/compensate` })] }],
      ['after cycle', { steps: [step('a', { after: ['b'] }), step('b', { after: ['a'] })] }],
      ['after unknown', { steps: [step('a', { after: ['nope'] })] }],
      ['no steps', { steps: [] }],
      ['duplicate ids', { steps: [step('a'), step('a')] }],
      ['branches on a message', { steps: [step('a')], branches: [{ branchId: 'b', ...s.p.urls('b') }] }],
    ];
    for (const [label, body] of bad) {
      const res = await prepare({ xid: x, ...body });
      expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBe(400);
      expectError(res, 400, 'INVALID_REQUEST');
    }
    expectError(await api(s.base, 'POST', '/v1/transactions', { xid: x, checkUrl: s.p.checkUrl }), 400, 'INVALID_REQUEST');
    expectError(await api(s.base, 'POST', '/v1/transactions', { mode: 'saga', xid: x, checkUrl: s.p.checkUrl, steps: [{ ...step('a'), compensateUrl: `${s.p.url}/c` }] }), 400, 'INVALID_REQUEST');
    expect((await api(s.base, 'GET', `/v1/transactions/${x}`)).status).toBe(404);
    const db = openStore(s.r.db);
    try {
      expect(await db('dtx_global_tx').where({ xid: x })).toEqual([]);
      expect(await db('dtx_branch').where({ xid: x })).toEqual([]);
    } finally {
      await db.destroy();
    }
    expectError(await commit(xid('unknown')), 404, 'TX_NOT_FOUND');
    expectError(await api(s.base, 'POST', `/v1/transactions/${xid('unknown')}/rollback`, {}), 404, 'TX_NOT_FOUND');

    const m = xid('msg');
    await prepare({ xid: m, steps: [step('a')] });
    expectError(await s.register(m, 'extra'), 400, 'INVALID_REQUEST');
    expectError(await api(s.base, 'POST', `/v1/transactions/${m}/branches/a/try-result`, { ok: true }), 400, 'INVALID_REQUEST');
    expect((await s.get(m)).branches).toHaveLength(1);
  });

  test('mode on the list and its filter; decisions by mode in the metrics', async () => {
    const m = xid('msg');
    await prepare({ xid: m, steps: [step('a')] });
    await commit(m, { wait: true });
    const t = xid('tcc');
    await s.begin({ xid: t });
    const msgs = (await api(s.base, 'GET', '/v1/transactions?mode=msg&limit=500')).body.items;
    expect(msgs.length).toBeGreaterThan(0);
    expect(msgs.every((i: any) => i.mode === 'msg')).toBe(true);
    expect(msgs.map((i: any) => i.xid)).toContain(m);
    expect(msgs.map((i: any) => i.xid)).not.toContain(t);
    expect((await listAll(s.base)).find((i: any) => i.xid === m)?.mode).toBe('msg');
    const metrics = await fetch(`${s.base}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/dtx_decisions_total\{decision="commit",reason="requested",mode="msg"\} [1-9]/);
    expect(metrics).toMatch(/dtx_decisions_total\{decision="commit",reason="check-back",mode="msg"\} [1-9]/);
    expect(metrics).toMatch(/dtx_decisions_total\{decision="rollback",reason="check-back",mode="msg"\} [1-9]/);
    expect(metrics).toMatch(/dtx_phase2_calls_total\{phase="check",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/dtx_phase2_calls_total\{phase="action",outcome="ok"\} [1-9]/);
  });
});
