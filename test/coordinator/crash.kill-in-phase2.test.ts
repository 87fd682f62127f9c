import { afterEach, describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { spawnDtx, type DtxProcess } from '../support/coordinator-process.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';

const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

const ENV = { DTX_PHASE2_LEASE_MS: '1500', DTX_SWEEP_INTERVAL_MS: '100', DTX_RETRY_BASE_MS: '100', DTX_RETRY_MAX_MS: '500', DTX_CALL_TIMEOUT_MS: '2000' };

/** A participant whose phase-2 answers can be held back until the test lets them go. */
function gate(p: TestParticipant, phase: 'confirm' | 'cancel', held: (branchId: string) => boolean) {
  let open = false;
  const waiting: (() => void)[] = [];
  const effects = new Map<string, number>();
  p.on(phase, async (call) => {
    if (!open && held(call.body.branchId)) await new Promise<void>((r) => waiting.push(r));
    const key = `${call.body.xid}/${call.body.branchId}`;
    effects.set(key, (effects.get(key) ?? 0) + 1);
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

describe.each(stores)('a coordinator killed in phase 2 on %s', (kind) => {
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

  async function startTx(url: string, verb: 'commit' | 'rollback'): Promise<string> {
    const b = await api(url, 'POST', '/v1/transactions', {
      timeoutMs: 60_000,
      branches: ['a', 'b', 'c'].map((id) => ({ branchId: id, action: `w.${id}`, ...p.urls(`w.${id}`), payload: { id } })),
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
      db = await freshDatabase(kind, 'crash');
      p = await startParticipant();
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
      db = await freshDatabase(kind, 'crash');
      p = await startParticipant();
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
      db = await freshDatabase(kind, 'crash');
      p = await startParticipant();
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
