import { describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';
import { apiSuite, expectError, ISO_MS, xid } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** Begin and branch registration: answers, idempotency and conflicts (PROTOCOL.md "Coordinator API"). */
describe.each(stores)('begin and register on %s', (kind) => {
  const s = apiSuite(kind, 'api_begin');
  const { get, begin, register } = s;

  test('begin answers 201 with a generated sortable xid and the deadline', async () => {
    const res = await api(s.base, 'POST', '/v1/transactions', {});
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['createdAt', 'deadline', 'status', 'xid']);
    expect(res.body.xid).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    expect(res.body.status).toBe('trying');
    expect(res.body.createdAt).toMatch(ISO_MS);
    expect(Date.parse(res.body.deadline) - Date.parse(res.body.createdAt)).toBe(60_000);
    const later = await api(s.base, 'POST', '/v1/transactions', { timeoutMs: 1000 });
    expect(Date.parse(later.body.deadline) - Date.parse(later.body.createdAt)).toBe(1000);
    expect(later.body.xid > res.body.xid).toBe(true);
    // no body at all (no content-type) is an empty begin
    const bare = await api(s.base, 'POST', '/v1/transactions');
    expect(bare.status).toBe(201);
  });

  test('begin is idempotent for the same settings and 409 TX_EXISTS otherwise', async () => {
    const x = xid('begin');
    const first = await api(s.base, 'POST', '/v1/transactions', { xid: x, timeoutMs: 30_000, meta: { a: 1, b: [1, 2] } });
    expect(first.status).toBe(201);
    const again = await api(s.base, 'POST', '/v1/transactions', { xid: x, timeoutMs: 30_000, meta: { a: 1, b: [1, 2] } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    // the same JSON object with its keys in another order is the same meta
    expect((await api(s.base, 'POST', '/v1/transactions', { xid: x, timeoutMs: 30_000, meta: { b: [1, 2], a: 1 } })).status).toBe(200);
    expectError(await api(s.base, 'POST', '/v1/transactions', { xid: x, timeoutMs: 31_000, meta: { a: 1, b: [1, 2] } }), 409, 'TX_EXISTS');
    expectError(await api(s.base, 'POST', '/v1/transactions', { xid: x, timeoutMs: 30_000, meta: { a: 2 } }), 409, 'TX_EXISTS');
    expectError(await api(s.base, 'POST', '/v1/transactions', { xid: x }), 409, 'TX_EXISTS');
    expect((await get(x)).deadline).toBe(first.body.deadline);

    expect((await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { wait: true })).status).toBe(200);
    const late = await api(s.base, 'POST', '/v1/transactions', { xid: x, timeoutMs: 30_000, meta: { a: 1, b: [1, 2] } });
    expectError(late, 409, 'TX_EXISTS');
    expect(late.body.error.details.status).toBe('rolled_back');
  });

  test('concurrent begins of one xid create it once', async () => {
    const x = xid('race');
    const answers = await Promise.all(Array.from({ length: 8 }, () => api(s.base, 'POST', '/v1/transactions', { xid: x })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.createdAt)).size).toBe(1);
  });

  test('begin with branches registers them; repeating it with other branches is TX_EXISTS', async () => {
    const x = xid('withbr');
    const branches = [{ branchId: 'a', ...s.p.urls('w'), payload: { n: 1 } }];
    const first = await api(s.base, 'POST', '/v1/transactions', { xid: x, branches });
    expect(first.status).toBe(201);
    expect(first.body.branches).toEqual([{ branchId: 'a', status: 'registered' }]);
    expect((await api(s.base, 'POST', '/v1/transactions', { xid: x, branches })).status).toBe(200);
    expectError(await api(s.base, 'POST', '/v1/transactions', { xid: x, branches: [{ ...branches[0], payload: { n: 2 } }] }), 409, 'TX_EXISTS');
    expectError(await api(s.base, 'POST', '/v1/transactions', { xid: x, branches: [...branches, { branchId: 'b', ...s.p.urls('w') }] }), 409, 'TX_EXISTS');
    expectError(await api(s.base, 'POST', '/v1/transactions', { xid: x, branches, order: 'sequential' }), 409, 'TX_EXISTS');
    expect((await get(x)).branches.map((b: any) => b.branchId)).toEqual(['a']);
  });

  test('register answers 201, then 200 for the same registration, 409 BRANCH_CONFLICT for another', async () => {
    const x = await begin();
    const first = await register(x, 'debit', { payload: { account: 'A', amount: 30 }, timeoutMs: 500 });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ xid: x, branchId: 'debit', status: 'registered' });
    const again = await register(x, 'debit', { payload: { amount: 30, account: 'A' }, timeoutMs: 500 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expectError(await register(x, 'debit', { payload: { account: 'A', amount: 31 }, timeoutMs: 500 }), 409, 'BRANCH_CONFLICT');
    expectError(await register(x, 'debit', { payload: { account: 'A', amount: 30 }, timeoutMs: 500, confirmUrl: `${s.p.url}/other/confirm` }), 409, 'BRANCH_CONFLICT');
    expectError(await register(x, 'debit', { payload: { account: 'A', amount: 30 }, timeoutMs: 500, cancelUrl: `${s.p.url}/other/cancel` }), 409, 'BRANCH_CONFLICT');
    // tryUrl is optional
    const noTry = await api(s.base, 'POST', `/v1/transactions/${x}/branches`, { branchId: 'credit', confirmUrl: s.p.urls('c').confirmUrl, cancelUrl: s.p.urls('c').cancelUrl });
    expect(noTry.status).toBe(201);
    const tx = await get(x);
    expect(tx.branches.map((b: any) => [b.branchId, b.status, b.action])).toEqual([
      ['debit', 'registered', 'act.debit'],
      ['credit', 'registered', null],
    ]);
  });

  test('concurrent registrations: the same one is created once, different ones all land in order', async () => {
    const x = await begin();
    const same = await Promise.all(Array.from({ length: 6 }, () => register(x, 'dup', { payload: { n: 1 } })));
    expect(same.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    const ids = ['b1', 'b2', 'b3', 'b4', 'b5'];
    const many = await Promise.all(ids.map((id) => register(x, id)));
    expect(many.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    expect((await get(x)).branches.map((b: any) => b.branchId).sort()).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'dup']);
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/rollback`, { wait: true })).body.status).toBe('rolled_back');
    expect(s.p.callsOf('cancel', x)).toHaveLength(6);
  });

  test('every identifier character works through every endpoint', async () => {
    const x = xid('Az09._:-');
    const b = 'Br.an_ch:9-x';
    expect((await api(s.base, 'POST', '/v1/transactions', { xid: x })).status).toBe(201);
    expect((await register(x, b)).status).toBe(201);
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/branches/${b}/try-result`, { ok: true, result: 1 })).status).toBe(200);
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/commit`, { wait: true })).status).toBe(200);
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/retry`, {})).status).toBe(200);
    const t = await get(x);
    expect(t).toMatchObject({ xid: x, status: 'committed', branches: [{ branchId: b, status: 'confirmed', tryResult: 1 }] });
    const [call] = s.p.callsOf('confirm', x);
    expect(call!.headers['dtx-xid']).toBe(x);
    expect(call!.headers['dtx-branch-id']).toBe(b);
  });

  test('register after the decision is 409 TX_NOT_TRYING with the current status; a repeat of an earlier one is 200', async () => {
    const x = await begin();
    expect((await register(x, 'a')).status).toBe(201);
    s.p.on('confirm', () => ({ status: 200, body: {}, delayMs: 300 }));
    expect((await api(s.base, 'POST', `/v1/transactions/${x}/commit`, {})).status).toBe(202);
    const late = await register(x, 'b');
    expectError(late, 409, 'TX_NOT_TRYING');
    expect(late.body.error.details.status).toBe('committing');
    expect((await register(x, 'a')).status).toBe(200);
    await eventually(async () => (await get(x)).status === 'committed');
    const later = await register(x, 'b');
    expectError(later, 409, 'TX_NOT_TRYING');
    expect(later.body.error.details.status).toBe('committed');
    expect((await get(x)).branches.map((b: any) => b.branchId)).toEqual(['a']);
  });
});
