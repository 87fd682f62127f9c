import { afterEach, describe, expect, test } from 'vitest';
import { startCoordinator, type Running } from '../support/coordinator.js';
import { api, eventually } from '../support/http.js';
import { startParticipant, type ReceivedCall, type TestParticipant } from '../support/participant.js';
import { storeKinds } from '../support/services.js';

// A confirm slower than the phase-2 lease: recovery must not claim the transaction and
// call the branch again while the first call is still in flight. No two calls of one
// branch overlap, and attempt numbers are not repeated.
const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);

/** Records, per branch, how many of its calls were in flight at once at the most. */
function overlapMeter(p: TestParticipant, delayMs: (call: ReceivedCall) => number) {
  const inFlight = new Map<string, number>();
  const most = new Map<string, number>();
  p.on('confirm', async (call) => {
    const key = `${call.body.xid}/${call.body.branchId}`;
    inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    most.set(key, Math.max(most.get(key) ?? 0, inFlight.get(key)!));
    await new Promise((r) => setTimeout(r, delayMs(call)));
    inFlight.set(key, inFlight.get(key)! - 1);
    return { status: 200, body: {} };
  });
  return { most };
}

describe.each(stores)('a phase-2 round slower than the lease on %s', (kind) => {
  let r: Running | undefined;
  let p: TestParticipant | undefined;
  afterEach(async () => {
    await r?.close();
    await p?.close();
  });

  async function committed(branches: object[], order: 'parallel' | 'sequential' = 'parallel'): Promise<{ xid: string; tx: any }> {
    const begin = await api(r!.url, 'POST', '/v1/transactions', { timeoutMs: 30_000, order, branches });
    expect(begin.status).toBe(201);
    const xid = begin.body.xid as string;
    expect((await api(r!.url, 'POST', `/v1/transactions/${xid}/commit`, {})).status).toBeLessThan(300);
    const tx = await eventually(async () => {
      const t = (await api(r!.url, 'GET', `/v1/transactions/${xid}`)).body;
      return t.status === 'committed' ? t : undefined;
    }, 30_000);
    return { xid, tx };
  }

  test('a 2 s confirm under a 500 ms lease is called once', async () => {
    r = await startCoordinator({ kind, label: 'slowround', phase2LeaseMs: 500, sweepIntervalMs: 50, callTimeoutMs: 5000 });
    p = await startParticipant();
    const meter = overlapMeter(p, () => 2000);
    const { xid } = await committed([{ branchId: 'slow', action: 'w.slow', ...p.urls('w.slow') }]);
    await new Promise((res) => setTimeout(res, 300)); // any late duplicate would have arrived by now
    expect(p.callsOf('confirm', xid).map((c) => c.headers['dtx-attempt'])).toEqual(['1']);
    expect(meter.most.get(`${xid}/slow`)).toBe(1);
  });

  test("a branch's own long timeout, and sequential calls that add up past the lease: never two calls of one branch at once", async () => {
    r = await startCoordinator({ kind, label: 'slowround', phase2LeaseMs: 500, sweepIntervalMs: 50, callTimeoutMs: 1000 });
    p = await startParticipant();
    const meter = overlapMeter(p, (call) => (call.body.branchId === 'long' ? 1800 : 700));
    const branches = [
      { branchId: 'long', action: 'w.long', timeoutMs: 3000, ...p.urls('w.long') },
      { branchId: 'b', action: 'w.b', ...p.urls('w.b') },
      { branchId: 'c', action: 'w.c', ...p.urls('w.c') },
    ];
    const { xid } = await committed(branches, 'sequential');
    await new Promise((res) => setTimeout(res, 300));
    for (const b of ['long', 'b', 'c']) {
      expect(p.callsOf('confirm', xid).filter((c) => c.body.branchId === b).map((c) => c.headers['dtx-attempt'])).toEqual(['1']);
      expect(meter.most.get(`${xid}/${b}`)).toBe(1);
    }
  });
});
