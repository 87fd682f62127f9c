import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { afterField, crashPlan, CrashingCoordinator, graphSteps, HANG_MS, PROPERTY_ENV, PROPERTY_SEED, PROPERTY_STORES, propertyRuns, script, stepGraph, type Drawn, type StepGraph } from '../support/fault-property.js';
import { crashStage } from '../support/crash-stage.js';
import { api, eventually } from '../support/http.js';
import type { TestParticipant } from '../support/participant.js';
import { storeKinds, type StoreKind } from '../support/services.js';

/**
 * PROTOCOL.md v1.2 "Message" under random faults: a producer whose local transaction
 * commits or fails at a random moment (sometimes after the deadline, racing the
 * check-back), who then tells the coordinator or says nothing; check-backs and deliveries
 * answered at random (2xx, 409, 5xx, a hang past the call timeout); and a real coordinator
 * process SIGKILLed at random moments and replaced by another on the same log. Whatever
 * happens, a message is delivered, every step exactly once, iff its producer's local
 * transaction committed, and nothing is called for one that did not. Settings:
 * test/support/fault-property.ts.
 */
const RUNS: Partial<Record<StoreKind, number>> = { sqlite: 4, mysql: 2 };
const stores = await storeKinds(PROPERTY_STORES);

interface MsgCase extends StepGraph {
  /** Each step's answers to its deliveries, in turn (409 is retried like a 5xx for a message); 2xx once a script runs out. */
  deliveryAnswers: Drawn[][];
  /** The check route's answers before it answers by the barrier rule. */
  checkAnswers: Drawn[];
  /** Whether the producer's business succeeds, when its local transaction runs (ms after the prepare), and whether it then tells the coordinator. */
  local: 'commit' | 'fail';
  localAfterMs: number;
  tell: boolean;
  timeoutMs: number;
}

const msgCase: fc.Arbitrary<MsgCase> = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc
    .record({
      graph: stepGraph(n),
      deliveryAnswers: fc.array(script, { minLength: n, maxLength: n }),
      checkAnswers: fc.array(fc.constantFrom<Drawn>('fail', 'hang'), { maxLength: 2 }),
      local: fc.constantFrom<'commit' | 'fail'>('commit', 'commit', 'fail'),
      localAfterMs: fc.integer({ min: 0, max: 2500 }),
      tell: fc.boolean(),
      timeoutMs: fc.integer({ min: 1000, max: 2500 }),
    })
    .map(({ graph, ...rest }) => ({ ...graph, ...rest })),
);

const runCase = fc.record({ messages: fc.array(msgCase, { minLength: 1, maxLength: 3 }), crashes: crashPlan });

/** A step as its consumer's barrier keeps it: delivered once, every call counted. */
interface Delivery {
  delivered: number;
  calls: number;
  firstCallAt: number | null;
  /** When a 2xx (not a hang's late one) was answered. */
  okAt: number | null;
}

/**
 * The producer's and the consumers' side of every message in the file. The producer keeps
 * the message's barrier row as PROTOCOL.md gives it: its local transaction takes the row
 * (and fails if the check-back took it first); the check route takes it for a rollback
 * unless the local transaction has it, and answers 200 or 409. Consumers de-duplicate
 * deliveries; a hang does its work when it ends, past the coordinator's timeout.
 */
class MsgLedger {
  /** xid → who took the barrier row: the local transaction (`msg`) or the check-back (`rollback`). */
  readonly barrier = new Map<string, 'msg' | 'rollback'>();
  readonly deliveries = new Map<string, Delivery>();
  readonly checks = new Map<string, number[]>();
  readonly #scripts = new Map<string, Drawn[]>();
  inFlight = 0;

  constructor(p: TestParticipant) {
    p.on('action', (call) => this.#deliver(call.body.xid, call.body.branchId));
    p.on('check', (call) => this.#check(call.body.xid));
  }

  expect(xid: string, c: MsgCase): void {
    for (const s of graphSteps(c)) this.#scripts.set(`${xid}/${s.branchId}`, [...c.deliveryAnswers[s.index]!]);
    this.#scripts.set(`${xid}/check`, [...c.checkAnswers]);
  }

  /** The producer's local transaction: true when it committed. */
  local(xid: string, c: MsgCase): boolean {
    if (this.barrier.has(xid) || c.local === 'fail') return false; // the row is taken, or the business failed and rolled it back
    this.barrier.set(xid, 'msg');
    return true;
  }

  of(xid: string, branchId: string): Delivery {
    const k = `${xid}/${branchId}`;
    let d = this.deliveries.get(k);
    if (!d) this.deliveries.set(k, (d = { delivered: 0, calls: 0, firstCallAt: null, okAt: null }));
    return d;
  }

  async #hang(drawn: Drawn | undefined): Promise<void> {
    if (drawn !== 'hang') return;
    this.inFlight++;
    await new Promise((r) => setTimeout(r, HANG_MS));
    this.inFlight--;
  }

  async #deliver(xid: string, branchId: string) {
    const d = this.of(xid, branchId);
    d.calls++;
    d.firstCallAt ??= performance.now();
    const drawn = this.#scripts.get(`${xid}/${branchId}`)?.shift() ?? 'ok';
    if (drawn === 'fail') return { status: 503, body: { error: 'drawn 5xx' } };
    if (drawn === 'refuse') return { status: 409, body: { error: 'drawn 409' } };
    await this.#hang(drawn);
    if (d.delivered === 0) d.delivered = 1;
    if (drawn !== 'hang') d.okAt ??= performance.now();
    return { status: 200, body: {} };
  }

  async #check(xid: string) {
    this.checks.set(xid, [...(this.checks.get(xid) ?? []), Date.now()]);
    const drawn = this.#scripts.get(`${xid}/check`)?.shift();
    if (drawn === 'fail') return { status: 503, body: { error: 'drawn 5xx' } };
    await this.#hang(drawn);
    if (!this.barrier.has(xid)) this.barrier.set(xid, 'rollback');
    return this.barrier.get(xid) === 'msg' ? { status: 200, body: {} } : { status: 409, body: { error: 'not committed' } };
  }
}

const TERMINAL = new Set(['committed', 'rolled_back']);

describe.each(stores)('messages under random answers, producers and coordinator crashes, on %s', (kind) => {
  const settings = propertyRuns(RUNS[kind] ?? 2);
  const stage = crashStage(kind, 'msg_prop', PROPERTY_ENV);
  let ledger: MsgLedger;
  let coordinator: CrashingCoordinator;
  const stats = { runs: 0, messages: 0, committed: 0, rolledBack: 0, neverLogged: 0, checkedBack: 0, told: 0, deliveryCalls: 0 };

  /** One producer: prepare, its local transaction at its moment, then the commit or rollback when it tells. */
  async function produce(xid: string, c: MsgCase): Promise<{ prepared: boolean; committed: boolean }> {
    const steps = graphSteps(c).map((s) => ({ branchId: s.branchId, action: `m.${s.branchId}`, actionUrl: stage.p.sagaUrls(`m.${s.branchId}`).actionUrl, payload: { n: s.branchId }, ...afterField(c, s) }));
    const prepared = await api(coordinator.url, 'POST', '/v1/transactions', { mode: 'msg', xid, timeoutMs: c.timeoutMs, checkUrl: stage.p.checkUrl, steps }).catch(() => null);
    if (!prepared) return { prepared: false, committed: false }; // the coordinator died under the request: the producer gives up
    expect(prepared.status, JSON.stringify(prepared.body)).toBe(201);
    await new Promise((r) => setTimeout(r, c.localAfterMs));
    const committed = ledger.local(xid, c);
    if (c.tell) {
      stats.told++;
      const end = await api(coordinator.url, 'POST', `/v1/transactions/${xid}/${committed ? 'commit' : 'rollback'}`, {}).catch(() => null);
      // too late (the check-back decided first) is an answer too: the message's status
      if (end && end.status >= 300) expect([409], JSON.stringify(end.body)).toContain(end.status);
    }
    return { prepared: true, committed };
  }

  async function runOne(run: { messages: MsgCase[]; crashes: number[] }) {
    stats.runs++;
    const xids = run.messages.map((_, i) => `mprop-${stats.runs}-${i}-${Math.random().toString(36).slice(2, 8)}`);
    run.messages.forEach((c, i) => ledger.expect(xids[i]!, c));
    const producers = Promise.all(run.messages.map((c, i) => produce(xids[i]!, c)));
    await coordinator.crash(run.crashes, stage.p, xids, producers);
    const outcomes = await producers;
    for (const [i, c] of run.messages.entries()) {
      const xid = xids[i]!;
      const tx = await eventually(async () => {
        const r = await api(coordinator.url, 'GET', `/v1/transactions/${xid}`);
        if (r.status === 404 && !outcomes[i]!.prepared) return { status: 'never logged', deadline: '', branches: [] as { branchId: string; status: string }[] };
        return TERMINAL.has(r.body.status) ? r.body : null;
      }, 45_000);
      await eventually(async () => ledger.inFlight === 0, 10_000, 50); // hangs still under way do their work first
      checkMessage(xid, c, tx, outcomes[i]!.committed);
    }
  }

  function checkMessage(xid: string, c: MsgCase, tx: { status: string; mode?: string; deadline: string; branches: { branchId: string; status: string }[] }, localCommitted: boolean) {
    stats.messages++;
    const steps = graphSteps(c);
    const where = `${xid} ${JSON.stringify(c)} -> ${JSON.stringify(tx)}`;
    const d = (branchId: string) => ledger.of(xid, branchId);
    for (const s of steps) stats.deliveryCalls += d(s.branchId).calls;
    if (ledger.checks.has(xid)) stats.checkedBack++;
    // delivered iff the local transaction committed
    expect(tx.status === 'committed', `committed iff the local transaction committed (${localCommitted}): ${where}`).toBe(localCommitted);
    expect(ledger.barrier.get(xid) === 'msg', where).toBe(localCommitted);
    if (tx.status === 'never logged') {
      stats.neverLogged++;
      for (const s of steps) expect(d(s.branchId).calls, where).toBe(0);
      return;
    }
    expect(tx.mode, where).toBe('msg');
    // a check-back only once the deadline passed
    for (const at of ledger.checks.get(xid) ?? []) expect(at, `checked back before the deadline: ${where}`).toBeGreaterThanOrEqual(Date.parse(tx.deadline) - 50);
    if (tx.status === 'committed') {
      stats.committed++;
      for (const s of steps) {
        expect(tx.branches.find((b) => b.branchId === s.branchId)!.status, where).toBe('delivered');
        expect(d(s.branchId).delivered, `${s.branchId} delivered once: ${where}`).toBe(1);
        // by `after`: first called once every step it comes after was delivered
        for (const a of s.ancestors) {
          const ok = d(a).okAt;
          expect(ok !== null && ok <= d(s.branchId).firstCallAt!, `${s.branchId} called before ${a} was delivered: ${where}`).toBe(true);
        }
      }
      return;
    }
    stats.rolledBack++;
    for (const s of steps) {
      expect(tx.branches.find((b) => b.branchId === s.branchId)!.status, where).toBe('registered');
      expect(d(s.branchId).calls, `${s.branchId} called for a message that did not commit: ${where}`).toBe(0);
    }
  }

  test(`${settings.numRuns} random runs (seed ${PROPERTY_SEED})`, async () => {
    await stage.open();
    ledger = new MsgLedger(stage.p);
    coordinator = new CrashingCoordinator(() => stage.spawn());
    await coordinator.start();
    try {
      await fc.assert(fc.asyncProperty(runCase, runOne), settings);
    } finally {
      console.info(`[msg property ${kind}] seed ${PROPERTY_SEED}, ${settings.numRuns} runs, ${coordinator?.crashes} crashes: ${JSON.stringify(stats)}`);
    }
  }, settings.numRuns * 60_000 + 30_000);
});
