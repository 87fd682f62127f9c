import { verifySignature } from '@dtx/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { startParticipant, TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';
import { expectError, ISO_MS, listAll, startCoordinator, type Running } from './api.fixture.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);
const SECRET = 'test-signing-secret';

/** Participant callbacks, phase-2 retries, Retry-After, stuck and the operator retry (PROTOCOL.md). */
describe.each(stores)('callbacks and phase-2 retries on %s', (kind) => {
  let r: Running;
  /** Retries far apart, so only the operator retry drives it again. */
  let slow: Running;
  let p: TestParticipant;
  beforeAll(async () => {
    [r, slow] = await Promise.all([
      startCoordinator({ kind, label: 'api_cb', signingSecret: SECRET, stuckAfterAttempts: 3, callTimeoutMs: 300 }),
      startCoordinator({ kind, label: 'api_cb_slow', retryBaseMs: 60_000, retryMaxMs: 60_000 }),
    ]);
    p = await startParticipant();
  });
  afterAll(async () => {
    await r.close();
    await slow.close();
    await p.close();
  });
  beforeEach(() => {
    p.on('try', () => ({ status: 200, body: { t: 1 } }))
      .on('confirm', () => ({ status: 200, body: {} }))
      .on('cancel', () => ({ status: 200, body: {} }));
  });

  const get = async (base: string, x: string) => (await api(base, 'GET', `/v1/transactions/${x}`)).body;
  const begin = async (base: string, ids: string[], participant = p) => {
    const x = (await api(base, 'POST', '/v1/transactions', {})).body.xid as string;
    for (const id of ids) {
      const res = await api(base, 'POST', `/v1/transactions/${x}/branches`, { branchId: id, action: `act.${id}`, ...participant.urls(`act.${id}`), payload: { id } });
      expect(res.status).toBe(201);
    }
    return x;
  };

  test('every callback carries the dtx-* headers and a dtx-signature that verifies', async () => {
    const res = await api(r.url, 'POST', '/v1/transactions', { drive: true, branches: [{ branchId: 'a', action: 'act.a', ...p.urls('act.a'), payload: { n: 1 } }] });
    expect(res.body.status).toBe('committed');
    const x = res.body.xid;
    const x2 = await begin(r.url, ['b']);
    await api(r.url, 'POST', `/v1/transactions/${x2}/rollback`, { wait: true });
    const calls = [...p.callsOf('try', x), ...p.callsOf('confirm', x), ...p.callsOf('cancel', x2)];
    expect(calls.map((c) => c.phase)).toEqual(['try', 'confirm', 'cancel']);
    for (const c of calls) {
      expect(c.headers['content-type']).toMatch(/^application\/json/);
      expect(c.headers['dtx-xid']).toBe(c.body.xid);
      expect(c.headers['dtx-branch-id']).toBe(c.body.branchId);
      expect(c.headers['dtx-phase']).toBe(c.phase);
      expect(c.headers['dtx-attempt']).toBe('1');
      const sig = c.headers['dtx-signature'] as string;
      expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64},v2=[0-9a-f]{64}$/);
      const destination = `${p.url}/${c.action}/${c.phase}`;
      expect(verifySignature(SECRET, sig, c.rawBody, { destination })).toEqual({ ok: true });
      expect(verifySignature('another-secret', sig, c.rawBody, { destination }).ok).toBe(false);
      expect(verifySignature(SECRET, sig, c.rawBody.replace('"xid"', '"xid" '), { destination }).ok).toBe(false);
      // bound to where it was sent: the same bytes at another participant are refused
      expect(verifySignature(SECRET, sig, c.rawBody, { destination: `http://127.0.0.1:1/${c.action}/${c.phase}` })).toEqual({ ok: false, reason: 'destination' });
      expect(Math.abs(Date.now() - Number(/t=(\d+)/.exec(sig)![1]))).toBeLessThan(60_000);
    }
    // without a signing secret there is no signature
    const y = await begin(slow.url, ['c']);
    await api(slow.url, 'POST', `/v1/transactions/${y}/commit`, { wait: true });
    const [confirm] = p.callsOf('confirm', y);
    expect(confirm!.headers['dtx-signature']).toBeUndefined();
    expect(confirm!.headers['dtx-attempt']).toBe('1');
  });

  test('a failing confirm shows attempts, lastError and nextRetryAt, then finishes once the participant recovers', async () => {
    let failures = 3;
    p.on('confirm', () => (failures-- > 0 ? { status: 503, body: { error: { code: 'BUSY', message: 'try later' } } } : { status: 200, body: {} }));
    const x = await begin(r.url, ['a']);
    const c = await api(r.url, 'POST', `/v1/transactions/${x}/commit`, {});
    expect(c.status).toBe(202);
    const failing = await eventually(async () => {
      const t = await get(r.url, x);
      return t.status === 'committing' && t.attempts >= 1 ? t : null;
    }, 10_000, 5);
    expect(failing.lastError).toMatch(/^confirm act\.a: HTTP 503/);
    expect(failing.nextRetryAt).toMatch(ISO_MS);
    expect(failing.branches[0]).toMatchObject({ status: 'registered', attempts: expect.any(Number) });
    expect(failing.branches[0].attempts).toBeGreaterThanOrEqual(1);
    expect(failing.branches[0].lastError).toMatch(/HTTP 503/);
    await eventually(async () => (await get(r.url, x)).status === 'committed', 10_000, 20);
    const done = await get(r.url, x);
    expect(done.branches[0]).toMatchObject({ status: 'confirmed', lastError: null });
    expect(done.nextRetryAt).toBeNull();
    expect(done.finishedAt).toMatch(ISO_MS);
    const attempts = p.callsOf('confirm', x).map((k) => Number(k.headers['dtx-attempt']));
    expect(attempts).toEqual([1, 2, 3, 4]);
    for (const k of p.callsOf('confirm', x)) {
      expect(verifySignature(SECRET, k.headers['dtx-signature'] as string, k.rawBody, { destination: `${p.url}/${k.action}/confirm` })).toEqual({ ok: true });
    }
  });

  for (const [label, fail] of [
    ['409', { status: 409, body: {} }],
    ['422', { status: 422, body: {} }],
    ['400', { status: 400, body: {} }],
    ['500', { status: 500, body: {} }],
    ['a timeout', { status: 200, body: {}, delayMs: 600 }],
  ] as const) {
    test(`a confirm or cancel answering ${label} is retried, never given up`, async () => {
      for (const phase of ['confirm', 'cancel'] as const) {
        let first = true;
        p.on(phase, () => {
          if (!first) return { status: 200, body: {} };
          first = false;
          return fail;
        });
        const x = await begin(r.url, ['a']);
        await api(r.url, 'POST', `/v1/transactions/${x}/${phase === 'confirm' ? 'commit' : 'rollback'}`, {});
        await eventually(async () => ['committed', 'rolled_back'].includes((await get(r.url, x)).status), 10_000, 20);
        expect((await get(r.url, x)).status).toBe(phase === 'confirm' ? 'committed' : 'rolled_back');
        expect(p.callsOf(phase, x).map((k) => k.headers['dtx-attempt'])).toEqual(['1', '2']);
      }
    });
  }

  test('a participant that is down gets its URL in lastError, and the cancel lands when it comes back', async () => {
    const down = await new TestParticipant().start();
    const port = down.port;
    const x = await begin(r.url, ['gone'], down);
    await down.close();
    expect((await api(r.url, 'POST', `/v1/transactions/${x}/rollback`, { reason: 'test' })).status).toBe(202);
    const failing = await eventually(async () => {
      const t = await get(r.url, x);
      return t.attempts >= 1 ? t : null;
    });
    expect(failing.status).toBe('rolling_back');
    expect(failing.lastError).toContain(`127.0.0.1:${port}/act.gone/cancel`);
    await down.start(port);
    try {
      await eventually(async () => (await get(r.url, x)).status === 'rolled_back');
      expect(down.callsOf('cancel', x)).toHaveLength(1);
      expect(Number(down.callsOf('cancel', x)[0]!.headers['dtx-attempt'])).toBeGreaterThan(1);
    } finally {
      await down.close();
    }
  });

  test('Retry-After from the participant wins over the backoff', async () => {
    let first = true;
    p.on('confirm', () => {
      if (!first) return { status: 200, body: {} };
      first = false;
      return { status: 503, body: {}, headers: { 'retry-after': '1' } };
    });
    const x = await begin(r.url, ['a']);
    await api(r.url, 'POST', `/v1/transactions/${x}/commit`, {});
    const waiting = await eventually(async () => {
      const t = await get(r.url, x);
      return t.attempts === 1 ? t : null;
    }, 5000, 5);
    // retryMaxMs is 100 here: only Retry-After explains a retry a second later
    expect(Date.parse(waiting.nextRetryAt) - Date.parse(waiting.updatedAt)).toBeGreaterThanOrEqual(990);
    await eventually(async () => (await get(r.url, x)).status === 'committed', 5000, 20);
    const [a, b] = p.callsOf('confirm', x);
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(900);
  });

  test('after stuckAfterAttempts failed rounds it is flagged stuck, listed, still retried, and finishes later', async () => {
    let healthy = false;
    p.on('cancel', () => (healthy ? { status: 200, body: {} } : { status: 500, body: {} }));
    const x = await begin(r.url, ['a', 'b']);
    await api(r.url, 'POST', `/v1/transactions/${x}/rollback`, {});
    const stuck = await eventually(async () => {
      const t = await get(r.url, x);
      return t.stuck ? t : null;
    });
    expect(stuck.status).toBe('rolling_back');
    expect(stuck.attempts).toBeGreaterThanOrEqual(3);
    const listed = await api(r.url, 'GET', '/v1/transactions?stuck=true');
    expect(listed.body.items.map((t: any) => t.xid)).toContain(x);
    expect(listed.body.items.every((t: any) => t.stuck === true)).toBe(true);
    const before = p.callsOf('cancel', x).length;
    await eventually(async () => p.callsOf('cancel', x).length > before + 1);
    healthy = true;
    await eventually(async () => (await get(r.url, x)).status === 'rolled_back');
    const done = await get(r.url, x);
    expect(done.stuck).toBe(false);
    expect(done.branches.map((b: any) => b.status)).toEqual(['cancelled', 'cancelled']);
    expect((await listAll(r.url)).find((t) => t.xid === x).stuck).toBe(false);
    expect((await api(r.url, 'GET', '/v1/transactions?stuck=true')).body.items.map((t: any) => t.xid)).not.toContain(x);
  });

  test('operator retry runs phase 2 now: 202 while unfinished, 200 with the status otherwise', async () => {
    let healthy = false;
    p.on('confirm', () => (healthy ? { status: 200, body: {} } : { status: 503, body: {} }));
    const x = await begin(slow.url, ['a']);
    expect((await api(slow.url, 'POST', `/v1/transactions/${x}/commit`, { wait: 200 })).status).toBe(202);
    const failing = await eventually(async () => {
      const t = await get(slow.url, x);
      return t.attempts === 1 ? t : null;
    });
    expect(failing).toMatchObject({ status: 'committing', attempts: 1 });
    expect(Date.parse(failing.nextRetryAt) - Date.now()).toBeGreaterThan(20_000);
    healthy = true;
    const retry = await api(slow.url, 'POST', `/v1/transactions/${x}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({ xid: x, status: 'committing' });
    await eventually(async () => (await get(slow.url, x)).status === 'committed', 5000, 20);
    expect(p.callsOf('confirm', x).map((k) => k.headers['dtx-attempt'])).toEqual(['1', '2']);
    const again = await api(slow.url, 'POST', `/v1/transactions/${x}/retry`, {});
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ xid: x, status: 'committed' });
    expect(p.callsOf('confirm', x)).toHaveLength(2);
    const y = await begin(slow.url, ['b']);
    expect((await api(slow.url, 'POST', `/v1/transactions/${y}/retry`, {})).body).toEqual({ xid: y, status: 'trying' });
    expect((await get(slow.url, y)).status).toBe('trying');
    expectError(await api(slow.url, 'POST', '/v1/transactions/nope-xid/retry', {}), 404, 'TX_NOT_FOUND');
    await api(slow.url, 'POST', `/v1/transactions/${y}/rollback`, { wait: true });
  });
});
