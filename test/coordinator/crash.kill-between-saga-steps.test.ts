import { describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { crashStage, heldActions } from '../support/crash-stage.js';
import { storeKinds } from '../support/services.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** PROTOCOL.md v1.2 "Saga": the forward path is recoverable from the log alone. */
describe.each(stores)('a coordinator killed between saga steps on %s', (kind) => {
  const stage = crashStage(kind, 'crash_saga');
  const spawn = () => stage.spawn();

  const steps = () => ['a', 'b', 'c'].map((id) => ({ branchId: id, action: `w.${id}`, ...stage.p.sagaUrls(`w.${id}`), payload: { id } }));

  async function killDuringB(timeoutMs: number) {
    await stage.open();
    const part = heldActions(stage.p, 'b');
    const first = await spawn();
    const begun = await api(first.url, 'POST', '/v1/transactions', { mode: 'saga', timeoutMs, wait: false, steps: steps() });
    expect(begun.status).toBe(202);
    const xid: string = begun.body.xid;
    await eventually(async () => stage.p.callsOf('action', xid).some((c) => c.body.branchId === 'b'));
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
    expect(stage.p.callsOf('action', xid).filter((c) => c.body.branchId === 'a')).toHaveLength(1);
    expect(stage.p.callsOf('action', xid).filter((c) => c.body.branchId === 'b').length).toBeGreaterThanOrEqual(2);
    expect(stage.p.callsOf('action', xid).find((c) => c.body.branchId === 'c')!.body.results).toEqual({ a: { did: 'a' }, b: { did: 'b' } });
    for (const id of ['a', 'b', 'c']) expect(part.effects.get(`action:${xid}/${id}`)).toBe(1);
    expect(stage.p.callsOf('compensate', xid)).toHaveLength(0);
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
    expect(stage.p.callsOf('compensate', xid).map((c) => c.body.branchId)).toEqual(['b', 'a']);
    expect(stage.p.callsOf('action', xid).some((c) => c.body.branchId === 'c')).toBe(false);
  }, 60_000);

  test('killed during compensation, a restarted coordinator finishes the compensations in reverse', async () => {
    await stage.open();
    let open = false;
    const waiting: (() => void)[] = [];
    stage.p.on('action', (call) => (call.body.branchId === 'c' ? { status: 409, body: { error: 'refused' } } : { status: 200, body: { did: call.body.branchId } }));
    stage.p.on('compensate', async (call) => {
      if (!open && call.body.branchId === 'b') await new Promise<void>((r) => waiting.push(r));
      return { status: 200, body: {} };
    });
    const first = await spawn();
    const begun = await api(first.url, 'POST', '/v1/transactions', { mode: 'saga', timeoutMs: 60_000, wait: false, steps: steps() });
    const xid: string = begun.body.xid;
    await eventually(async () => stage.p.callsOf('compensate', xid).length === 2); // c compensated, b's compensation hangs
    await first.kill('SIGKILL');
    open = true;
    for (const r of waiting.splice(0)) r();
    const second = await spawn();
    const tx = await eventually(async () => {
      const r = await api(second.url, 'GET', `/v1/transactions/${xid}`);
      return r.body.status === 'rolled_back' ? r.body : null;
    }, 30_000);
    expect(tx.branches.map((b: { status: string }) => b.status)).toEqual(['compensated', 'compensated', 'compensated']);
    const order = stage.p.callsOf('compensate', xid).map((c) => c.body.branchId);
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
      await stage.open();
      const part = heldActions(stage.p, 'b');
      const first = await spawn();
      const survivor = await spawn();
      const begun = await api(first.url, 'POST', '/v1/transactions', { mode: 'saga', timeoutMs: 60_000, wait: false, steps: steps() });
      const xid: string = begun.body.xid;
      await eventually(async () => stage.p.callsOf('action', xid).some((c) => c.body.branchId === 'b'));
      await first.kill('SIGKILL');
      part.release();
      await eventually(async () => (await api(survivor.url, 'GET', `/v1/transactions/${xid}`)).body.status === 'committed', 30_000);
      for (const id of ['a', 'b', 'c']) expect(part.effects.get(`action:${xid}/${id}`)).toBe(1);
      expect(survivor.proc.exitCode).toBeNull();
    }, 60_000);
  }
});
