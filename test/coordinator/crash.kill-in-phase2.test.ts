import { describe, expect, test } from 'vitest';
import { crashStage, latch } from '../support/crash-stage.js';
import { api, eventually } from '../support/http.js';
import type { TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** A participant whose phase-2 answers can be held back until the test lets them go. */
function gate(p: TestParticipant, phase: 'confirm' | 'cancel', held: (branchId: string) => boolean) {
  const gateOpen = latch();
  const effects = new Map<string, number>();
  p.on(phase, async (call) => {
    if (held(call.body.branchId)) await gateOpen.pass();
    const key = `${call.body.xid}/${call.body.branchId}`;
    effects.set(key, (effects.get(key) ?? 0) + 1);
    return { status: 200, body: {} };
  });
  return { effects, release: gateOpen.release };
}

describe.each(stores)('a coordinator killed in phase 2 on %s', (kind) => {
  const stage = crashStage(kind, 'crash');
  const spawn = () => stage.spawn();

  async function startTx(url: string, verb: 'commit' | 'rollback'): Promise<string> {
    const b = await api(url, 'POST', '/v1/transactions', {
      timeoutMs: 60_000,
      branches: ['a', 'b', 'c'].map((id) => ({ branchId: id, action: `w.${id}`, ...stage.p.urls(`w.${id}`), payload: { id } })),
    });
    expect(b.status).toBe(201);
    const d = await api(url, 'POST', `/v1/transactions/${b.body.xid}/${verb}`, {});
    expect(d.status).toBe(202);
    return b.body.xid;
  }

  for (const verb of ['commit', 'rollback'] as const) {
    const phase = verb === 'commit' ? 'confirm' : 'cancel';
    const final = verb === 'commit' ? 'committed' : 'rolled_back';

    test(`killed right after the ${verb} decision, a restarted coordinator finishes it`, async () => {
      await stage.open();
      const p = stage.p;
      const g = gate(p, phase, () => true); // nothing answers: the decision is durable, no branch done
      const first = await spawn();
      const xid = await startTx(first.url, verb);
      await eventually(async () => p.callsOf(phase, xid).length === 3);
      await first.kill('SIGKILL');
      g.release();

      const second = await spawn();
      const tx = await eventually(async () => {
        const r = await api(second.url, 'GET', `/v1/transactions/${xid}`);
        return r.body.status === final ? r.body : null;
      });
      expect(tx.branches.map((b: { status: string }) => b.status)).toEqual(Array(3).fill(verb === 'commit' ? 'confirmed' : 'cancelled'));
      for (const id of ['a', 'b', 'c']) expect(g.effects.get(`${xid}/${id}`)).toBeGreaterThanOrEqual(1);
      expect(p.callsOf(verb === 'commit' ? 'cancel' : 'confirm', xid)).toHaveLength(0);
    });

    test(`killed in the middle of ${phase}s, a restarted coordinator finishes what is left`, async () => {
      await stage.open();
      const p = stage.p;
      const g = gate(p, phase, (branchId) => branchId === 'b'); // a and c answer, b hangs
      const first = await spawn();
      const xid = await startTx(first.url, verb);
      await eventually(async () => g.effects.size === 2 && p.callsOf(phase, xid).length === 3);
      await first.kill('SIGKILL');
      g.release();

      const second = await spawn();
      await eventually(async () => (await api(second.url, 'GET', `/v1/transactions/${xid}`)).body.status === final);
      expect(g.effects.get(`${xid}/b`)).toBeGreaterThanOrEqual(1);
      expect(p.callsOf(verb === 'commit' ? 'cancel' : 'confirm', xid)).toHaveLength(0);
    });
  }

  if (kind !== 'sqlite') {
    test('on a server store a second live coordinator finishes the dead one’s transactions', async () => {
      await stage.open();
      const p = stage.p;
      const g = gate(p, 'confirm', () => true);
      const first = await spawn();
      const survivor = await spawn();
      const xids = [await startTx(first.url, 'commit'), await startTx(first.url, 'commit')];
      await eventually(async () => xids.every((x) => p.callsOf('confirm', x).length === 3));
      await first.kill('SIGKILL');
      g.release();
      for (const xid of xids) {
        await eventually(async () => (await api(survivor.url, 'GET', `/v1/transactions/${xid}`)).body.status === 'committed');
      }
      expect(survivor.proc.exitCode).toBeNull();
    });
  }
});
