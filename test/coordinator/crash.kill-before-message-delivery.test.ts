import { describe, expect, test } from 'vitest';
import { crashStage, heldActions } from '../support/crash-stage.js';
import { api, eventually } from '../support/http.js';
import { storeKinds } from '../support/services.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** PROTOCOL.md v1.2 "Message": a committed message is delivered, and a prepared one checked back, from the log alone. */
describe.each(stores)('a coordinator killed before a message is delivered on %s', (kind) => {
  const stage = crashStage(kind, 'crash_msg');
  const steps = () => ['a', 'b'].map((id) => ({ branchId: id, action: `m.${id}`, actionUrl: stage.p.sagaUrls(`m.${id}`).actionUrl, payload: { id } }));
  const committed = (url: string, xid: string) =>
    eventually(async () => {
      const r = await api(url, 'GET', `/v1/transactions/${xid}`);
      return r.body.status === 'committed' ? r.body : null;
    }, 30_000);

  /** A message prepared and committed on a first coordinator, SIGKILLed while its first delivery is out. */
  async function killDuringDelivery() {
    await stage.open();
    const part = heldActions(stage.p, 'a');
    const first = await stage.spawn();
    const begun = await api(first.url, 'POST', '/v1/transactions', { mode: 'msg', timeoutMs: 60_000, checkUrl: stage.p.checkUrl, steps: steps() });
    expect(begun.status).toBe(201);
    const xid: string = begun.body.xid;
    const decided = await api(first.url, 'POST', `/v1/transactions/${xid}/commit`, {});
    expect(decided.body).toEqual({ xid, status: 'committing' });
    await eventually(async () => stage.p.callsOf('action', xid).length === 1);
    await first.kill('SIGKILL'); // the decision is logged; a's answer never reaches the dead coordinator
    part.release();
    return { xid, part };
  }

  test('committed, then killed mid-delivery: a restarted coordinator delivers every step from the log, each once in effect', async () => {
    const { xid, part } = await killDuringDelivery();
    const second = await stage.spawn();
    const tx = await committed(second.url, xid);
    expect(tx.branches.map((b: { status: string }) => b.status)).toEqual(['delivered', 'delivered']);
    // a's first call was never logged: called again (the barrier answers the repeat), and b only after it
    const calls = stage.p.callsOf('action', xid).map((c) => c.body.branchId);
    expect(calls.filter((id) => id === 'a').length).toBeGreaterThanOrEqual(2);
    expect(calls.at(-1)).toBe('b');
    for (const id of ['a', 'b']) expect(part.effects.get(`action:${xid}/${id}`)).toBe(1);
    expect(stage.p.callsOf('check', xid)).toEqual([]);
    expect(stage.p.callsOf('compensate', xid)).toEqual([]);
  }, 60_000);

  test('prepared, then killed before the commit: a restarted coordinator checks back at the deadline and delivers', async () => {
    await stage.open();
    const part = heldActions(stage.p, 'none');
    stage.p.on('check', () => ({ status: 200, body: {} }));
    const first = await stage.spawn();
    const begun = await api(first.url, 'POST', '/v1/transactions', { mode: 'msg', timeoutMs: 2000, checkUrl: stage.p.checkUrl, steps: steps() });
    const xid: string = begun.body.xid;
    await first.kill('SIGKILL');
    const second = await stage.spawn();
    const tx = await committed(second.url, xid);
    expect(tx.branches.map((b: { status: string }) => b.status)).toEqual(['delivered', 'delivered']);
    expect(stage.p.callsOf('check', xid)).toHaveLength(1);
    expect(stage.p.callsOf('action', xid).map((c) => c.body.branchId)).toEqual(['a', 'b']);
    for (const id of ['a', 'b']) expect(part.effects.get(`action:${xid}/${id}`)).toBe(1);
  }, 60_000);

  if (kind !== 'sqlite') {
    test('a second live coordinator delivers the dead one’s message', async () => {
      await stage.open();
      const part = heldActions(stage.p, 'a');
      const first = await stage.spawn();
      const survivor = await stage.spawn();
      const begun = await api(first.url, 'POST', '/v1/transactions', { mode: 'msg', timeoutMs: 60_000, checkUrl: stage.p.checkUrl, steps: steps() });
      const xid: string = begun.body.xid;
      await api(first.url, 'POST', `/v1/transactions/${xid}/commit`, {});
      await eventually(async () => stage.p.callsOf('action', xid).length === 1);
      await first.kill('SIGKILL');
      part.release();
      await committed(survivor.url, xid);
      for (const id of ['a', 'b']) expect(part.effects.get(`action:${xid}/${id}`)).toBe(1);
      expect(survivor.proc.exitCode).toBeNull();
    }, 60_000);
  }
});
