import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/http.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';
import { expectError, listAll, startCoordinator, xid, type Running } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** PROTOCOL.md: bad input is refused with the right code and changes nothing (DESIGN.md invariant 5). */
describe.each(stores)('bad input on %s', (kind) => {
  let r: Running;
  let p: TestParticipant;
  let base: string;
  /** A trying transaction with one registered branch, to aim bad writes at. */
  let target: string;
  let before: unknown;
  /** Transactions the positive checks (limits, charset) created on purpose. */
  const accepted: string[] = [];

  beforeAll(async () => {
    r = await startCoordinator({ kind, label: 'api_bad' });
    base = r.url;
    p = await startParticipant();
    target = xid('target');
    expect((await api(base, 'POST', '/v1/transactions', { xid: target })).status).toBe(201);
    expect((await api(base, 'POST', `/v1/transactions/${target}/branches`, { branchId: 'b1', ...p.urls('w'), payload: { n: 1 } })).status).toBe(201);
    before = (await api(base, 'GET', `/v1/transactions/${target}`)).body;
  });
  afterAll(async () => {
    // nothing any refused request sent was written: only the target and the accepted ones exist
    expect((await listAll(base)).map((t) => t.xid).sort()).toEqual([target, ...accepted].sort());
    expect((await api(base, 'GET', `/v1/transactions/${target}`)).body).toEqual(before);
    await r.close();
    await p.close();
  });

  const absent = async (x: string) => expectError(await api(base, 'GET', `/v1/transactions/${x}`), 404, 'TX_NOT_FOUND');
  const unchanged = async () => expect((await api(base, 'GET', `/v1/transactions/${target}`)).body).toEqual(before);

  test('malformed JSON and non-object bodies are 400 INVALID_REQUEST', async () => {
    for (const body of ['{"xid": "x1",', '{bad}', 'nul', '[]', 'null', '"text"', '42']) {
      expectError(await api(base, 'POST', '/v1/transactions', body), 400, 'INVALID_REQUEST');
      expectError(await api(base, 'POST', `/v1/transactions/${target}/branches`, body), 400, 'INVALID_REQUEST');
      expectError(await api(base, 'POST', `/v1/transactions/${target}/commit`, body), 400, 'INVALID_REQUEST');
      expectError(await api(base, 'POST', `/v1/transactions/${target}/branches/b1/try-result`, body), 400, 'INVALID_REQUEST');
    }
    await unchanged();
  });

  test('wrong types on begin list every issue by path', async () => {
    const x = xid('types');
    const res = await api(base, 'POST', '/v1/transactions', { xid: x, timeoutMs: '5000', drive: 'yes', order: 'random', wait: 'no' });
    expectError(res, 400, 'INVALID_REQUEST');
    const paths = res.body.error.details.issues.map((i: { path: string }) => i.path);
    for (const field of ['timeoutMs', 'drive', 'order', 'wait']) expect(paths.some((q: string) => q.includes(field)), `${field} in ${paths}`).toBe(true);
    await absent(x);
  });

  test('timeoutMs outside 1,000–86,400,000 or not an integer is refused', async () => {
    for (const timeoutMs of [999, 0, -1, 86_400_001, 1500.5]) {
      const x = xid('timeout');
      expectError(await api(base, 'POST', '/v1/transactions', { xid: x, timeoutMs }), 400, 'INVALID_REQUEST');
      await absent(x);
    }
  });

  test('bad xid characters and lengths are refused in bodies and paths', async () => {
    for (const bad of ['', 'has space', 'slash/inside', 'hash#', 'ümlaut', 'q?x', 'a'.repeat(129), 'semi;colon']) {
      expectError(await api(base, 'POST', '/v1/transactions', { xid: bad }), 400, 'INVALID_REQUEST');
    }
    for (const bad of ['has%20space', 'a'.repeat(129), '%C3%BC', 'semi%3Bcolon']) {
      expectError(await api(base, 'GET', `/v1/transactions/${bad}`), 400, 'INVALID_REQUEST');
      expectError(await api(base, 'POST', `/v1/transactions/${bad}/commit`, {}), 400, 'INVALID_REQUEST');
      expectError(await api(base, 'POST', `/v1/transactions/${bad}/rollback`, {}), 400, 'INVALID_REQUEST');
      expectError(await api(base, 'POST', `/v1/transactions/${bad}/retry`, {}), 400, 'INVALID_REQUEST');
      expectError(await api(base, 'POST', `/v1/transactions/${bad}/branches`, { branchId: 'b', ...p.urls('w') }), 400, 'INVALID_REQUEST');
    }
    // broken percent-encoding still answers in the protocol's shape
    expectError(await api(base, 'GET', '/v1/transactions/%E0%A4%A'), 400, 'INVALID_REQUEST');
    // the longest legal xid works end to end
    const longest = `L${'x'.repeat(127)}`;
    accepted.push(longest);
    expect((await api(base, 'POST', '/v1/transactions', { xid: longest })).status).toBe(201);
    expect((await api(base, 'GET', `/v1/transactions/${longest}`)).body.xid).toBe(longest);
    expect((await api(base, 'POST', `/v1/transactions/${longest}/rollback`, { wait: true })).status).toBe(200);
  });

  test('bad branch registrations are refused and register nothing', async () => {
    const bad: [string, unknown][] = [
      ['missing confirmUrl', { branchId: 'n1', cancelUrl: p.urls('w').cancelUrl }],
      ['missing branchId', { ...p.urls('w') }],
      ['branchId with a space', { branchId: 'b 2', ...p.urls('w') }],
      ['branchId with a slash', { branchId: 'b/2', ...p.urls('w') }],
      ['branchId of 65 chars', { branchId: 'b'.repeat(65), ...p.urls('w') }],
      ['empty branchId', { branchId: '', ...p.urls('w') }],
      ['relative URL', { branchId: 'n2', ...p.urls('w'), confirmUrl: '/w/confirm' }],
      ['ftp URL', { branchId: 'n3', ...p.urls('w'), cancelUrl: 'ftp://127.0.0.1/w/cancel' }],
      ['URL with credentials', { branchId: 'n4', ...p.urls('w'), tryUrl: 'http://u:p@127.0.0.1/w/try' }],
      ['numeric URL', { branchId: 'n5', ...p.urls('w'), confirmUrl: 42 }],
      ['timeoutMs as a string', { branchId: 'n6', ...p.urls('w'), timeoutMs: '500' }],
      ['timeoutMs of 0', { branchId: 'n7', ...p.urls('w'), timeoutMs: 0 }],
      ['action as a number', { branchId: 'n8', ...p.urls('w'), action: 7 }],
      ['timeoutMs over 10 minutes', { branchId: 'n9', ...p.urls('w'), timeoutMs: 600_001 }],
      ['branches as an object', { branchId: 'n10', ...p.urls('w'), confirmUrl: { href: 'http://x' } }],
    ];
    for (const [why, body] of bad) {
      const res = await api(base, 'POST', `/v1/transactions/${target}/branches`, body);
      expect(res.status, why).toBe(400);
      expectError(res, 400, 'INVALID_REQUEST');
    }
    // the same mistakes inside a begin's branches refuse the whole begin
    for (const [why, body] of bad) {
      const x = xid('bb');
      expect((await api(base, 'POST', '/v1/transactions', { xid: x, branches: [body] })).status, why).toBe(400);
      await absent(x);
    }
    await unchanged();
  });

  test('more than 100 branches in one begin is refused', async () => {
    const x = xid('many');
    const branches = Array.from({ length: 101 }, (_, i) => ({ branchId: `b${i}`, ...p.urls('w') }));
    expectError(await api(base, 'POST', '/v1/transactions', { xid: x, branches }), 400, 'INVALID_REQUEST');
    expectError(await api(base, 'POST', '/v1/transactions', { xid: x, branches: 'b1' }), 400, 'INVALID_REQUEST');
    await absent(x);
  });

  test('a body over 1 MiB is 413 PAYLOAD_TOO_LARGE on every write', async () => {
    const huge = 'x'.repeat(1024 * 1024 + 10);
    const x = xid('huge');
    expectError(await api(base, 'POST', '/v1/transactions', { xid: x, meta: { huge } }), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await api(base, 'POST', `/v1/transactions/${target}/branches`, { branchId: 'big', ...p.urls('w'), payload: huge }), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await api(base, 'POST', `/v1/transactions/${target}/branches/b1/try-result`, { ok: true, result: huge }), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await api(base, 'POST', `/v1/transactions/${target}/rollback`, { reason: huge }), 413, 'PAYLOAD_TOO_LARGE');
    await absent(x);
    await unchanged();
  });

  test('meta over 16 KiB and branch payloads over 64 KiB are 413; exactly at the limit is fine', async () => {
    // JSON text of a string of n chars is n + 2 bytes
    const atMeta = 'm'.repeat(16 * 1024 - 2);
    const x1 = xid('meta');
    accepted.push(x1);
    expectError(await api(base, 'POST', '/v1/transactions', { xid: x1, meta: `${atMeta}m` }), 413, 'PAYLOAD_TOO_LARGE');
    await absent(x1);
    const ok = await api(base, 'POST', '/v1/transactions', { xid: x1, meta: atMeta });
    expect(ok.status).toBe(201);
    expect((await api(base, 'GET', `/v1/transactions/${x1}`)).body.meta).toBe(atMeta);

    const atPayload = 'p'.repeat(64 * 1024 - 2);
    const x2 = xid('payload');
    expectError(await api(base, 'POST', '/v1/transactions', { xid: x2, branches: [{ branchId: 'a', ...p.urls('w'), payload: `${atPayload}p` }] }), 413, 'PAYLOAD_TOO_LARGE');
    await absent(x2);
    expectError(await api(base, 'POST', `/v1/transactions/${x1}/branches`, { branchId: 'big', ...p.urls('w'), payload: `${atPayload}p` }), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await api(base, 'POST', `/v1/transactions/${target}/branches/b1/try-result`, { ok: true, result: `${atPayload}p` }), 413, 'PAYLOAD_TOO_LARGE');
    expect((await api(base, 'GET', `/v1/transactions/${x1}`)).body.branches).toEqual([]);
    expect((await api(base, 'POST', `/v1/transactions/${x1}/branches`, { branchId: 'big', ...p.urls('w'), payload: atPayload })).status).toBe(201);
    expect((await api(base, 'POST', `/v1/transactions/${x1}/rollback`, { wait: true })).status).toBe(200);
    await unchanged();
  });

  test('anything but JSON is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x']) {
      const x = xid('ct');
      expectError(await api(base, 'POST', '/v1/transactions', JSON.stringify({ xid: x }), { 'content-type': ct }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      await absent(x);
      expectError(await api(base, 'POST', `/v1/transactions/${target}/commit`, '{}', { 'content-type': ct }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectError(
        await api(base, 'POST', `/v1/transactions/${target}/branches`, JSON.stringify({ branchId: 'ct', ...p.urls('w') }), { 'content-type': ct }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    }
    await unchanged();
    // JSON with a charset parameter is still JSON
    const x = xid('charset');
    accepted.push(x);
    expect((await api(base, 'POST', '/v1/transactions', JSON.stringify({ xid: x }), { 'content-type': 'application/json; charset=utf-8' })).status).toBe(201);
    expect((await api(base, 'POST', `/v1/transactions/${x}/rollback`, { wait: true })).status).toBe(200);
  });

  test('bad try-result, commit and rollback bodies are refused and decide nothing', async () => {
    for (const body of [{}, { ok: 'yes' }, { ok: 1 }, { ok: false, error: 42 }]) {
      expectError(await api(base, 'POST', `/v1/transactions/${target}/branches/b1/try-result`, body), 400, 'INVALID_REQUEST');
    }
    expectError(await api(base, 'POST', `/v1/transactions/${target}/branches/b%20x/try-result`, { ok: true }), 400, 'INVALID_REQUEST');
    for (const body of [{ wait: 'yes' }, { wait: -1 }, { wait: 1.5 }, { reason: 7 }]) {
      expectError(await api(base, 'POST', `/v1/transactions/${target}/commit`, body), 400, 'INVALID_REQUEST');
      expectError(await api(base, 'POST', `/v1/transactions/${target}/rollback`, body), 400, 'INVALID_REQUEST');
    }
    await unchanged();
  });

  test('bad list queries are 400', async () => {
    for (const q of ['status=done', 'stuck=yes', 'limit=0', 'limit=501', 'limit=abc', 'limit=-1', 'limit=2.5', 'cursor=', 'cursor=not-a-cursor']) {
      expectError(await api(base, 'GET', `/v1/transactions?${q}`), 400, 'INVALID_REQUEST');
    }
  });

  test('unknown transactions and branches are 404 with their code', async () => {
    const x = xid('ghost');
    expectError(await api(base, 'GET', `/v1/transactions/${x}`), 404, 'TX_NOT_FOUND');
    expectError(await api(base, 'POST', `/v1/transactions/${x}/commit`, {}), 404, 'TX_NOT_FOUND');
    expectError(await api(base, 'POST', `/v1/transactions/${x}/rollback`, {}), 404, 'TX_NOT_FOUND');
    expectError(await api(base, 'POST', `/v1/transactions/${x}/retry`, {}), 404, 'TX_NOT_FOUND');
    expectError(await api(base, 'POST', `/v1/transactions/${x}/branches`, { branchId: 'b', ...p.urls('w') }), 404, 'TX_NOT_FOUND');
    expectError(await api(base, 'POST', `/v1/transactions/${x}/branches/b/try-result`, { ok: true }), 404, 'TX_NOT_FOUND');
    expectError(await api(base, 'POST', `/v1/transactions/${target}/branches/nope/try-result`, { ok: true }), 404, 'BRANCH_NOT_FOUND');
    await absent(x);
    await unchanged();
  });
});
