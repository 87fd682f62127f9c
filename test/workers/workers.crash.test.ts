import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { LedgerParticipant } from './support/ledger.js';
import { expectAppliedOnce, Scenario, seedUnfinished } from './support/scenario.js';

const scenarios = await Scenario.perStore('crash');

let p: LedgerParticipant;
beforeAll(async () => {
  p = await LedgerParticipant.start();
});
afterAll(async () => {
  await p?.close();
});

describe.each(scenarios)('on a %s log', (_kind, scenario) => {
  afterAll(() => scenario.close());

  test('a worker SIGKILLed mid-job: another worker finishes the transaction', async () => {
    const s = scenario;
    const c = await s.coordinator();
    p.mode = { confirm: 'fail', cancel: 'fail' };
    const [xid] = await seedUnfinished(c.url, 1, () => [{ branchId: 'a', action: 'w.debit', ...p.urls('w.debit') }]);
    const before = p.calls('confirm', xid).length;

    // the first worker's confirm hangs; it is killed while the call is out
    p.mode.confirm = 'hang';
    // its round's lease covers the call (4 s) and the round's write: the rescuer waits that out
    const doomed = await s.worker(2, { DTX_CALL_TIMEOUT_MS: '4000' });
    await eventually(async () => p.calls('confirm', xid).length > before, 10_000, 20);
    expect(await doomed.kill('SIGKILL')).toBeNull();
    expect((await s.rows([xid!]))[0]!.status).toBe('committing');

    p.mode.confirm = 'ok';
    const killedAt = Date.now();
    const rescuer = await s.worker(2);
    const [row] = await s.waitFor([xid!], ['committed'], 30_000);
    expect(row!.status).toBe('committed');
    expectAppliedOnce(p, 'confirm', [xid!], ['a']);
    // the rescuer waited out the dead worker's lease in the log (the 4 s call and the round's write, past DTX_PHASE2_LEASE_MS=3000)
    const rescue = p.calls('confirm', xid).at(-1)!;
    expect(rescue.at - killedAt).toBeGreaterThan(3000);
    expect((await s.stop(rescuer)).stats.finished).toBe(1);
  });

  test('coordinator killed right after its decision, none restarted: the workers finish', async () => {
    const s = scenario;
    const workers = await Promise.all([s.worker(4), s.worker(4)]);
    // the coordinator's own phase-2 calls hang, so it dies with all of them in flight
    p.mode = { confirm: 'hang', cancel: 'hang' };
    const c = await s.coordinator({ DTX_CALL_TIMEOUT_MS: '4000' });
    const driven = await Promise.all(
      Array.from({ length: 8 }, () =>
        api(c.url, 'POST', '/v1/transactions', {
          drive: true,
          wait: false,
          branches: [
            { branchId: 'a', action: 'w.debit', ...p.urls('w.debit') },
            { branchId: 'b', action: 'w.credit', ...p.urls('w.credit') },
          ],
        }),
      ),
    );
    expect(driven.map((r) => r.body.status)).toEqual(Array(8).fill('committing'));
    const committing = driven.map((r) => r.body.xid as string);
    // initiator-driven: begin, register, rollback
    const begun = await api(c.url, 'POST', '/v1/transactions', { timeoutMs: 60_000 });
    const rb = begun.body.xid as string;
    expect((await api(c.url, 'POST', `/v1/transactions/${rb}/branches`, { branchId: 'r', action: 'w.hold', ...p.urls('w.hold') })).status).toBe(201);
    expect((await api(c.url, 'POST', `/v1/transactions/${rb}/rollback`, { wait: false })).body.status).toBe('rolling_back');

    await eventually(async () => committing.every((x) => p.calls('confirm', x).length === 2) && p.calls('cancel', rb).length === 1, 10_000, 20);
    await c.kill('SIGKILL'); // before its 4 s calls time out: the workers wait out its rounds' leases
    p.mode = { confirm: 'ok', cancel: 'ok' };

    const rows = await s.waitFor([...committing, rb], ['committed', 'rolled_back'], 30_000);
    expect(Object.fromEntries(rows.map((r) => [r.xid, r.status]))).toEqual({ ...Object.fromEntries(committing.map((x) => [x, 'committed'])), [rb]: 'rolled_back' });
    expectAppliedOnce(p, 'confirm', committing, ['a', 'b']);
    expectAppliedOnce(p, 'cancel', [rb], ['r']);
    expect(p.calls('cancel').filter((x) => committing.includes(x.body.xid))).toHaveLength(0);
    expect(p.calls('confirm', rb)).toHaveLength(0);
    for (const w of workers) expect((await s.stop(w)).code).toBe(0);
  });

  test('expired trying transactions are rolled back by the workers', async () => {
    const s = scenario;
    const c = await s.coordinator();
    p.mode = { confirm: 'ok', cancel: 'ok' };
    const xids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const b = await api(c.url, 'POST', '/v1/transactions', { timeoutMs: 1000 });
      xids.push(b.body.xid);
      await api(c.url, 'POST', `/v1/transactions/${b.body.xid}/branches`, { branchId: 'x', action: 'w.hold', ...p.urls('w.hold') });
    }
    await c.kill('SIGKILL'); // the initiator never commits; no coordinator is left either
    const w = await s.worker(4);
    const rows = await s.waitFor(xids, ['rolled_back'], 15_000);
    expect(rows.map((r) => r.reason)).toEqual(Array(6).fill('timeout'));
    expectAppliedOnce(p, 'cancel', xids, ['x']);
    expect(p.calls('confirm').filter((x) => xids.includes(x.body.xid))).toHaveLength(0);
    expect((await s.stop(w)).stats.finished).toBe(6);
  });
});
