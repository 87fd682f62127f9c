import { beforeEach, describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { apiSuite, expectError, listAll, openStore, xid } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** Saga mode, PROTOCOL.md v1.2 "Saga": forward actions, compensations in reverse, on every store. */
describe.each(stores)('saga on %s', (kind) => {
  const s = apiSuite(kind, 'api_saga', { callTimeoutMs: 1000 });
  beforeEach(() => {
    s.p.on('action', (call) => ({ status: 200, body: { did: call.body.branchId } })).on('compensate', () => ({ status: 200, body: {} }));
  });

  const step = (id: string, extra: object = {}) => ({ branchId: id, action: `s.${id}`, ...s.p.sagaUrls(`s.${id}`), payload: { id }, ...extra });
  const saga = (body: object) => api(s.base, 'POST', '/v1/transactions', { mode: 'saga', ...body });
  const actions = (x: string) => s.p.callsOf('action', x);
  const compensations = (x: string) => s.p.callsOf('compensate', x).map((c) => c.body.branchId);

  test('array order: one at a time, results passed forward, committed with no phase 2', async () => {
    const x = xid('saga');
    const res = await saga({ xid: x, wait: true, steps: [step('a'), step('b'), step('c')], meta: { k: 1 } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ xid: x, mode: 'saga', status: 'committed' });
    expect(res.body.branches).toEqual([
      { branchId: 'a', status: 'done', result: { did: 'a' } },
      { branchId: 'b', status: 'done', result: { did: 'b' } },
      { branchId: 'c', status: 'done', result: { did: 'c' } },
    ]);
    const calls = actions(x);
    expect(calls.map((c) => c.body.branchId)).toEqual(['a', 'b', 'c']);
    expect(calls[0]!.body).toEqual({ xid: x, branchId: 'a', action: 's.a', phase: 'action', payload: { id: 'a' }, results: {} });
    expect(calls[2]!.body.results).toEqual({ a: { did: 'a' }, b: { did: 'b' } });
    expect(calls[1]!.headers['dtx-phase']).toBe('action');
    for (let i = 1; i < calls.length; i++) expect(calls[i]!.at).toBeGreaterThanOrEqual(calls[i - 1]!.at);
    expect(compensations(x)).toEqual([]);
    const tx = await s.get(x);
    expect(tx).toMatchObject({ mode: 'saga', status: 'committed', meta: { k: 1 } });
    expect(tx.branches.map((b: any) => [b.branchId, b.status, b.result])).toEqual([
      ['a', 'done', { did: 'a' }],
      ['b', 'done', { did: 'b' }],
      ['c', 'done', { did: 'c' }],
    ]);
    const attempts = (await api(s.base, 'GET', `/v1/transactions/${x}/attempts`)).body.items;
    expect(attempts.map((a: any) => [a.branchId, a.phase, a.ok])).toEqual([
      ['a', 'action', true],
      ['b', 'action', true],
      ['c', 'action', true],
    ]);
  });

  test('after graph: independent steps run in parallel, a joining step waits for both', async () => {
    const x = xid('saga');
    s.p.on('action', (call) => ({ status: 200, body: { did: call.body.branchId }, delayMs: call.body.branchId === 'join' ? 0 : 600 }));
    const res = await saga({ xid: x, wait: true, steps: [step('a', { after: [] }), step('b', { after: [] }), step('join', { after: ['a', 'b'] })] });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('committed');
    const [first, second, join] = [...actions(x)].sort((p, q) => p.at - q.at);
    expect([first!.body.branchId, second!.body.branchId].sort()).toEqual(['a', 'b']);
    // side by side: the second was called before the first answered
    expect(Math.abs(second!.at - first!.at)).toBeLessThan(500);
    expect(join!.at - Math.max(first!.at, second!.at)).toBeGreaterThanOrEqual(550);
    expect(join!.body.branchId).toBe('join');
    expect(join!.body.results).toEqual({ a: { did: 'a' }, b: { did: 'b' } });
  });

  test('a refusal compensates exactly the called steps, in reverse, with their results; never-called steps are not', async () => {
    const x = xid('saga');
    s.p.on('action', (call) => (call.body.branchId === 'c' ? { status: 409, body: { error: 'no stock' } } : { status: 200, body: { did: call.body.branchId } }));
    const res = await saga({ xid: x, wait: true, steps: [step('a'), step('b'), step('c'), step('d')] });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('rolled_back');
    expect(res.body.reason).toMatch(/action refused/);
    expect(actions(x).map((c) => c.body.branchId)).toEqual(['a', 'b', 'c']);
    expect(compensations(x)).toEqual(['c', 'b', 'a']);
    const comp = s.p.callsOf('compensate', x);
    expect(comp.find((c) => c.body.branchId === 'b')!.body).toEqual({ xid: x, branchId: 'b', action: 's.b', phase: 'compensate', payload: { id: 'b' }, result: { did: 'b' } });
    expect(comp.find((c) => c.body.branchId === 'c')!.body).not.toHaveProperty('result');
    const tx = await s.get(x);
    expect(tx.branches.map((b: any) => [b.branchId, b.status])).toEqual([
      ['a', 'compensated'],
      ['b', 'compensated'],
      ['c', 'compensated'],
      ['d', 'registered'],
    ]);
  });

  test('compensations follow the reverse of the after graph, and are retried until they succeed', async () => {
    const x = xid('saga');
    let failures = 2;
    s.p.on('action', (call) => (call.body.branchId === 'last' ? { status: 422 } : { status: 200, body: {} }));
    s.p.on('compensate', (call) => (call.body.branchId === 'root' && failures-- > 0 ? { status: 503 } : { status: 200, body: {} }));
    const res = await saga({ xid: x, wait: 5000, steps: [step('root', { after: [] }), step('left', { after: ['root'] }), step('right', { after: ['root'] }), step('last', { after: ['left', 'right'] })] });
    expect(res.body.status).toBe('rolled_back');
    const order = compensations(x);
    expect(order[0]).toBe('last');
    expect(order.slice(1, 3).sort()).toEqual(['left', 'right']);
    expect(order.slice(3)).toEqual(['root', 'root', 'root']);
  });

  test('a transient action failure is retried; past the deadline the saga rolls back (timeout) and compensates what was called', async () => {
    const x = xid('saga');
    s.p.on('action', (call) => (call.body.branchId === 'b' ? { status: 503 } : { status: 200, body: {} }));
    const res = await saga({ xid: x, timeoutMs: 1000, wait: 5000, steps: [step('a'), step('b'), step('c')] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'rolled_back', reason: 'timeout' });
    expect(actions(x).filter((c) => c.body.branchId === 'b').length).toBeGreaterThan(1);
    expect(actions(x).some((c) => c.body.branchId === 'c')).toBe(false);
    expect(compensations(x)).toEqual(['b', 'a']);
  });

  test('rollback while trying stops the forward path and compensates; commit on a saga is refused', async () => {
    const x = xid('saga');
    s.p.on('action', (call) => ({ status: 200, body: {}, delayMs: call.body.branchId === 'b' ? 400 : 0 }));
    const res = await saga({ xid: x, wait: false, steps: [step('a'), step('b'), step('c')] });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ xid: x, mode: 'saga', status: 'trying' });
    await eventually(async () => actions(x).some((c) => c.body.branchId === 'b'));
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {}), 400, 'INVALID_REQUEST');
    const rb = await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { wait: 3000, reason: 'user cancelled' });
    expect(rb.status).toBe(200);
    expect(rb.body.status).toBe('rolled_back');
    await new Promise((r) => setTimeout(r, 500));
    expect(actions(x).some((c) => c.body.branchId === 'c')).toBe(false);
    expect(compensations(x)).toEqual(['b', 'a']);
    expect((await s.get(x)).reason).toBe('user cancelled');
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {}), 400, 'INVALID_REQUEST');
  });

  test('a rollback racing the last step decides once: committed with nothing compensated, or rolled back with every called step compensated', async () => {
    s.p.on('action', () => ({ status: 200, body: {}, delayMs: 100 }));
    const xids = Array.from({ length: 12 }, () => xid('race'));
    await Promise.all(xids.map((x) => saga({ xid: x, wait: false, steps: [step('a', { after: [] }), step('b', { after: [] })] })));
    const rollbacks = await Promise.all(
      xids.map(async (x, i) => {
        await new Promise((r) => setTimeout(r, 60 + i * 8)); // around the actions' answers
        return api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { wait: 3000 });
      }),
    );
    const outcomes = new Set<string>();
    for (const [i, x] of xids.entries()) {
      const tx = await eventually(async () => {
        const t = await s.get(x);
        return t.status === 'committed' || t.status === 'rolled_back' ? t : null;
      });
      outcomes.add(tx.status);
      if (tx.status === 'committed') {
        expect(rollbacks[i]!.status).toBe(409);
        expect(compensations(x)).toEqual([]);
        expect(tx.branches.map((b: any) => b.status)).toEqual(['done', 'done']);
      } else {
        expect(rollbacks[i]!.status).toBe(200);
        expect(compensations(x).sort()).toEqual(['a', 'b']);
        expect(tx.branches.map((b: any) => b.status)).toEqual(['compensated', 'compensated']);
      }
    }
    expect(outcomes.size).toBeGreaterThan(0);
  });

  test('begin repeated: the same saga answers its state, calls nothing twice; other steps are TX_EXISTS', async () => {
    const x = xid('saga');
    const body = { xid: x, wait: true, steps: [step('a'), step('b')] };
    const first = await saga(body);
    expect(first.status).toBe(200);
    const again = await saga(body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(actions(x)).toHaveLength(2);
    expectError(await saga({ ...body, steps: [step('a'), step('b', { payload: { other: 1 } })] }), 409, 'TX_EXISTS');
    expectError(await api(s.base, 'POST', '/v1/transactions', { xid: x }), 409, 'TX_EXISTS');
  });

  test('a saga takes no branch registration, try report or TCC begin of its xid', async () => {
    const x = xid('saga');
    s.p.on('action', (call) => ({ status: 200, body: {}, delayMs: call.body.branchId === 'a' ? 300 : 0 }));
    const res = await saga({ xid: x, wait: false, steps: [step('a'), step('b')] });
    expect(res.status).toBe(202);
    expectError(await s.register(x, 'extra'), 400, 'INVALID_REQUEST');
    expectError(await api(s.base, 'POST', `/v1/transactions/${x}/branches/a/try-result`, { ok: true }), 400, 'INVALID_REQUEST');
    expectError(await api(s.base, 'POST', '/v1/transactions', { xid: x, timeoutMs: 60000 }), 409, 'TX_EXISTS');
    await eventually(async () => (await s.get(x)).status === 'committed');
    expect((await s.get(x)).branches.map((b: any) => b.status)).toEqual(['done', 'done']);
  });

  test('bad input is refused with 400 and nothing written', async () => {
    const x = xid('bad');
    const bad: [string, object][] = [
      ['no steps', { steps: [] }],
      ['steps missing', {}],
      ['101 steps', { steps: Array.from({ length: 101 }, (_, i) => step(`s${i}`, { after: [] })) }],
      ['duplicate ids', { steps: [step('a'), step('a')] }],
      ['after unknown', { steps: [step('a'), step('b', { after: ['nope'] })] }],
      ['after cycle', { steps: [step('a', { after: ['b'] }), step('b', { after: ['a'] })] }],
      ['after itself', { steps: [step('a', { after: ['a'] })] }],
      ['no compensateUrl', { steps: [{ branchId: 'a', actionUrl: `${s.p.url}/x/action` }] }],
      ['relative url', { steps: [step('a', { actionUrl: '/x/action' })] }],
      ['branches on a saga', { steps: [step('a')], branches: [{ branchId: 'b', ...s.p.urls('b') }] }],
      ['unknown mode', { mode: 'nope', steps: [step('a')] }],
    ];
    for (const [label, body] of bad) {
      const res = await api(s.base, 'POST', '/v1/transactions', { mode: 'saga', xid: x, ...body });
      expect(res.status, label).toBe(400);
      expectError(res, 400, 'INVALID_REQUEST');
    }
    expectError(await api(s.base, 'POST', '/v1/transactions', { xid: x, steps: [step('a')] }), 400, 'INVALID_REQUEST');
    expect((await api(s.base, 'GET', `/v1/transactions/${x}`)).status).toBe(404);
    const db = openStore(s.r.db);
    try {
      expect(await db('dtx_branch').where({ xid: x })).toEqual([]);
    } finally {
      await db.destroy();
    }
    expect(actions(x)).toEqual([]);
  });

  test('a two-step saga costs three log writes, no more than a driven two-branch transaction', async () => {
    const commits = async () => Number(/^dtx_log_commits (\d+)$/m.exec(await fetch(`${s.base}/metrics`).then((r) => r.text()))![1]);
    s.p.on('try', () => ({ status: 200, body: {} }));
    const c0 = await commits();
    expect((await saga({ wait: true, steps: [step('a'), step('b')] })).body.status).toBe('committed');
    const c1 = await commits();
    const driven = await api(s.base, 'POST', '/v1/transactions', { drive: true, branches: ['a', 'b'].map((id) => ({ branchId: id, ...s.p.urls(`d.${id}`) })) });
    expect(driven.body.status).toBe('committed');
    const c2 = await commits();
    // saga: begin (first step marked called), a done + b called, b done + commit
    expect(c1 - c0).toBe(3);
    expect(c1 - c0).toBeLessThanOrEqual(c2 - c1);
  });

  test('mode on views and the list filter', async () => {
    const sx = xid('saga');
    await saga({ xid: sx, wait: true, steps: [step('a')] });
    const tx = xid('tcc');
    await s.begin({ xid: tx });
    expect((await s.get(tx)).mode).toBe('tcc');
    const sagas = (await api(s.base, 'GET', '/v1/transactions?mode=saga&limit=500')).body.items;
    expect(sagas.every((t: any) => t.mode === 'saga')).toBe(true);
    expect(sagas.map((t: any) => t.xid)).toContain(sx);
    const tccs = (await api(s.base, 'GET', '/v1/transactions?mode=tcc&limit=500')).body.items.map((t: any) => t.xid);
    expect(tccs).toContain(tx);
    expect(tccs).not.toContain(sx);
    expect((await listAll(s.base)).find((t: any) => t.xid === sx)?.mode).toBe('saga');
    expectError(await api(s.base, 'GET', '/v1/transactions?mode=nope'), 400, 'INVALID_REQUEST');
    const metrics = await fetch(`${s.base}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/dtx_decisions_total\{decision="commit",reason="saga done",mode="saga"\}/);
  });
});
