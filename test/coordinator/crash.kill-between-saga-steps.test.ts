import { afterEach, describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { spawnDtx, type DtxProcess } from '../support/coordinator-process.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

const ENV = { DTX_PHASE2_LEASE_MS: '1500', DTX_SWEEP_INTERVAL_MS: '100', DTX_RETRY_BASE_MS: '100', DTX_RETRY_MAX_MS: '500', DTX_CALL_TIMEOUT_MS: '2000' };

/**
 * A participant whose saga actions run once per (xid, step) as a barrier would make
 * them (a repeat answers the first result without a second effect), and whose action
 * of step `held` hangs until released.
 */
function sagaParticipant(p: TestParticipant, held: string) {
  let open = false;
  const waiting: (() => void)[] = [];
  const effects = new Map<string, number>();
  const once = (phase: string, key: string) => {
    const k = `${phase}:${key}`;
    effects.set(k, (effects.get(k) ?? 0) + 1);
  };
  const seen = new Set<string>();
  p.on('action', async (call) => {
    if (!open && call.body.branchId === held) await new Promise<void>((r) => waiting.push(r));
    const key = `${call.body.xid}/${call.body.branchId}`;
    if (!seen.has(key)) once('action', key);
    seen.add(key);
    return { status: 200, body: { did: call.body.branchId } };
  });
  p.on('compensate', async (call) => {
    once('compensate', `${call.body.xid}/${call.body.branchId}`);
    return { status: 200, body: {} };
  });
  return {
    effects,
    release() {
      open = true;
      for (const r of waiting.splice(0)) r();
    },
  };
}

/** PROTOCOL.md v1.2 "Saga": the forward path is recoverable from the log alone. */
describe.each(stores)('a coordinator killed between saga steps on %s', (kind) => {
  let db: FreshDatabase;
  let p: TestParticipant;
  const procs: DtxProcess[] = [];
  const spawn = async () => {
    const proc = await spawnDtx(['serve'], { ...ENV, DTX_DATABASE_URL: db.url });
    procs.push(proc);
    return proc;
  };

  afterEach(async () => {
    for (const proc of procs.splice(0)) await proc.kill('SIGKILL');
    await p?.close();
    await db?.drop();
  });

  const steps = () => ['a', 'b', 'c'].map((id) => ({ branchId: id, action: `w.${id}`, actionUrl: `${p.url}/w.${id}/action`, compensateUrl: `${p.url}/w.${id}/compensate`, payload: { id } }));

  async function killDuringB(timeoutMs: number) {
    db = await freshDatabase(kind, 'crash_saga');
    p = await startParticipant();
    const part = sagaParticipant(p, 'b');
    const first = await spawn();
    const begun = await api(first.url, 'POST', '/v1/transactions', { mode: 'saga', timeoutMs, wait: false, steps: steps() });
    expect(begun.status).toBe(202);
    const xid: string = begun.body.xid;
    await eventually(async () => p.callsOf('action', xid).some((c) => c.body.branchId === 'b'));
    await first.kill('SIGKILL'); // a is done and logged; b is called, its answer never reaches the dead coordinator
    part.release();
    return { xid, part };
  }

  test('before the deadline, a restarted coordinator resumes the forward path and commits', async () => {
    const { xid, part } = await killDuringB(60_000);
    const second = await spawn();
    const tx = await eventually(async () => {
      const r = await api(second.url, 'GET', `/v1/transactions/${xid}`);
      return r.body.status === 'committed' ? r.body : null;
    }, 30_000);
    expect(tx.branches.map((b: { status: string }) => b.status)).toEqual(['done', 'done', 'done']);
    // a was logged done before the kill: never called again; b called again (the barrier answered the repeat)
    expect(p.callsOf('action', xid).filter((c) => c.body.branchId === 'a')).toHaveLength(1);
    expect(p.callsOf('action', xid).filter((c) => c.body.branchId === 'b').length).toBeGreaterThanOrEqual(2);
    expect(p.callsOf('action', xid).find((c) => c.body.branchId === 'c')!.body.results).toEqual({ a: { did: 'a' }, b: { did: 'b' } });
    for (const id of ['a', 'b', 'c']) expect(part.effects.get(`action:${xid}/${id}`)).toBe(1);
    expect(p.callsOf('compensate', xid)).toHaveLength(0);
  }, 60_000);

  test('past its deadline, the restarted coordinator compensates what was called, in reverse', async () => {
    const { xid } = await killDuringB(2500);
    await new Promise((r) => setTimeout(r, 2500));
    const second = await spawn();
    const tx = await eventually(async () => {
      const r = await api(second.url, 'GET', `/v1/transactions/${xid}`);
      return r.body.status === 'rolled_back' ? r.body : null;
    }, 30_000);
    expect(tx.reason).toBe('timeout');
    expect(tx.branches.map((b: { status: string }) => b.status)).toEqual(['compensated', 'compensated', 'registered']);
    expect(p.callsOf('compensate', xid).map((c) => c.body.branchId)).toEqual(['b', 'a']);
    expect(p.callsOf('action', xid).some((c) => c.body.branchId === 'c')).toBe(false);
  }, 60_000);

  test('killed during compensation, a restarted coordinator finishes the compensations in reverse', async () => {
    db = await freshDatabase(kind, 'crash_saga');
    p = await startParticipant();
    let open = false;
    const waiting: (() => void)[] = [];
    p.on('action', (call) => (call.body.branchId === 'c' ? { status: 409, body: { error: 'refused' } } : { status: 200, body: { did: call.body.branchId } }));
    p.on('compensate', async (call) => {
      if (!open && call.body.branchId === 'b') await new Promise<void>((r) => waiting.push(r));
      return { status: 200, body: {} };
    });
    const first = await spawn();
    const begun = await api(first.url, 'POST', '/v1/transactions', { mode: 'saga', timeoutMs: 60_000, wait: false, steps: steps() });
    const xid: string = begun.body.xid;
    await eventually(async () => p.callsOf('compensate', xid).length === 2); // c compensated, b's compensation hangs
    await first.kill('SIGKILL');
    open = true;
    for (const r of waiting.splice(0)) r();
    const second = await spawn();
    const tx = await eventually(async () => {
      const r = await api(second.url, 'GET', `/v1/transactions/${xid}`);
      return r.body.status === 'rolled_back' ? r.body : null;
    }, 30_000);
    expect(tx.branches.map((b: { status: string }) => b.status)).toEqual(['compensated', 'compensated', 'compensated']);
    const order = p.callsOf('compensate', xid).map((c) => c.body.branchId);
    expect(order.slice(0, 2)).toEqual(['c', 'b']);
    expect(order.at(-1)).toBe('a');
    // a round logs its outcome when it ends, so the restarted round compensates c again (the barrier answers the
    // repeat), still in reverse: c before b before a
    expect(order.lastIndexOf('c')).toBeLessThan(order.lastIndexOf('b'));
    expect(order.indexOf('a')).toBeGreaterThan(order.lastIndexOf('b'));
    expect(order.filter((id) => id === 'a')).toHaveLength(1);
  }, 60_000);

  if (kind !== 'sqlite') {
    test('a second live coordinator resumes the dead one’s saga', async () => {
      db = await freshDatabase(kind, 'crash_saga');
      p = await startParticipant();
      const part = sagaParticipant(p, 'b');
      const first = await spawn();
      const survivor = await spawn();
      const begun = await api(first.url, 'POST', '/v1/transactions', { mode: 'saga', timeoutMs: 60_000, wait: false, steps: steps() });
      const xid: string = begun.body.xid;
      await eventually(async () => p.callsOf('action', xid).some((c) => c.body.branchId === 'b'));
      await first.kill('SIGKILL');
      part.release();
      await eventually(async () => (await api(survivor.url, 'GET', `/v1/transactions/${xid}`)).body.status === 'committed', 30_000);
      for (const id of ['a', 'b', 'c']) expect(part.effects.get(`action:${xid}/${id}`)).toBe(1);
      expect(survivor.proc.exitCode).toBeNull();
    }, 60_000);
  }
});
