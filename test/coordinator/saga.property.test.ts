import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { afterField, crashPlan, CrashingCoordinator, graphSteps, HANG_MS, PROPERTY_ENV, PROPERTY_SEED, PROPERTY_STORES, propertyRuns, script, stepGraph, type Drawn, type GraphStep, type StepGraph } from '../support/fault-property.js';
import { crashStage } from '../support/crash-stage.js';
import { api, eventually } from '../support/http.js';
import type { TestParticipant } from '../support/participant.js';
import { storeKinds, type StoreKind } from '../support/services.js';

/**
 * PROTOCOL.md v1.2 "Saga" under random faults: random step graphs, participants whose
 * every answer is drawn at random (2xx, 409, 5xx, a hang past the call timeout), and a
 * real coordinator process SIGKILLed at random moments and replaced by another on the
 * same log. Whatever happens, a saga ends committed with every action applied once and
 * nothing compensated, or rolled back with every called step compensated once, in
 * reverse of `after`, and nothing else touched. Settings: test/support/fault-property.ts.
 */
/** Runs per store, to keep the file near a minute on a busy CI machine. */
const RUNS: Partial<Record<StoreKind, number>> = { sqlite: 4, mysql: 2 };
const stores = await storeKinds(PROPERTY_STORES);

interface SagaCase extends StepGraph {
  /** Each step's answers to its action and compensate calls, in turn; 2xx once a script runs out. */
  actionAnswers: Drawn[][];
  compensateAnswers: Drawn[][];
  timeoutMs: number;
  wait: boolean;
}

const sagaCase: fc.Arbitrary<SagaCase> = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc
    .record({
      graph: stepGraph(n),
      actionAnswers: fc.array(script, { minLength: n, maxLength: n }),
      compensateAnswers: fc.array(script, { minLength: n, maxLength: n }),
      timeoutMs: fc.integer({ min: 1500, max: 5000 }),
      wait: fc.boolean(),
    })
    .map(({ graph, ...rest }) => ({ ...graph, ...rest })),
);

const runCase = fc.record({ sagas: fc.array(sagaCase, { minLength: 1, maxLength: 3 }), crashes: crashPlan });

/** One (xid, step) as a participant with a barrier sees it: rows written once, effects once, every call kept. */
interface StepLedger {
  actionRow: boolean;
  compensateRow: boolean;
  /** Business effect: +1 by the action, -1 by a compensation of an applied action. */
  balance: number;
  actionApplied: number;
  compensations: number;
  actionCalls: number;
  compensateCalls: number;
  firstActionCallAt: number | null;
  firstCompensateCallAt: number | null;
  /** When a 2xx answer (not a hang's late one) to an action / a compensation was sent. */
  actionOkAt: number | null;
  compensateOkAt: number | null;
  /** The `results` each action call carried. */
  results: Record<string, unknown>[];
}

/**
 * A participant for every saga in the file: each step's answers follow its script, and
 * what a call does follows the barrier rule (PROTOCOL.md v1.2): a repeat answers 2xx
 * without a second effect, a compensation before the action is empty, an action after
 * its compensation is refused. A hang does its work when it ends, past the coordinator's
 * timeout, as a request stuck in the network would.
 */
class SagaLedger {
  readonly steps = new Map<string, StepLedger>();
  readonly #scripts = new Map<string, { action: Drawn[]; compensate: Drawn[] }>();
  inFlight = 0;

  constructor(p: TestParticipant) {
    p.on('action', (call) => this.#serve('action', call.body.xid, call.body.branchId, call.body.results ?? {}));
    p.on('compensate', (call) => this.#serve('compensate', call.body.xid, call.body.branchId, {}));
  }

  expect(xid: string, c: SagaCase): void {
    for (const s of graphSteps(c)) this.#scripts.set(`${xid}/${s.branchId}`, { action: [...c.actionAnswers[s.index]!], compensate: [...c.compensateAnswers[s.index]!] });
  }

  of(xid: string, branchId: string): StepLedger {
    const k = `${xid}/${branchId}`;
    let l = this.steps.get(k);
    if (!l) {
      l = { actionRow: false, compensateRow: false, balance: 0, actionApplied: 0, compensations: 0, actionCalls: 0, compensateCalls: 0, firstActionCallAt: null, firstCompensateCallAt: null, actionOkAt: null, compensateOkAt: null, results: [] };
      this.steps.set(k, l);
    }
    return l;
  }

  async #serve(phase: 'action' | 'compensate', xid: string, branchId: string, results: Record<string, unknown>) {
    const l = this.of(xid, branchId);
    const at = performance.now();
    const drawn = this.#scripts.get(`${xid}/${branchId}`)?.[phase].shift() ?? 'ok';
    if (phase === 'action') {
      l.actionCalls++;
      l.firstActionCallAt ??= at;
      l.results.push(results);
    } else {
      l.compensateCalls++;
      l.firstCompensateCallAt ??= at;
    }
    if (drawn === 'fail') return { status: 503, body: { error: 'drawn 5xx' } };
    if (drawn === 'hang') {
      this.inFlight++;
      await new Promise((r) => setTimeout(r, HANG_MS));
      this.inFlight--;
    }
    const answer = phase === 'action' ? this.#action(l, branchId, drawn) : this.#compensate(l, drawn);
    if (answer.status === 200 && drawn !== 'hang') l[phase === 'action' ? 'actionOkAt' : 'compensateOkAt'] ??= performance.now();
    return answer;
  }

  #action(l: StepLedger, branchId: string, drawn: Drawn) {
    if (l.compensateRow) return { status: 409, body: { error: 'compensated before the action arrived' } };
    if (l.actionRow) return { status: 200, body: { did: branchId } };
    if (drawn === 'refuse') return { status: 409, body: { error: 'drawn refusal' } };
    l.actionRow = true;
    l.actionApplied++;
    l.balance++;
    return { status: 200, body: { did: branchId } };
  }

  #compensate(l: StepLedger, drawn: Drawn) {
    if (l.compensateRow) return { status: 200, body: {} };
    if (drawn === 'refuse') return { status: 409, body: { error: 'drawn 409 on a compensation' } };
    l.compensateRow = true;
    l.compensations++;
    if (l.actionRow) l.balance--;
    return { status: 200, body: {} };
  }
}

const TERMINAL = new Set(['committed', 'rolled_back']);

describe.each(stores)('sagas under random answers and coordinator crashes, on %s', (kind) => {
  const settings = propertyRuns(RUNS[kind] ?? 2);
  const stage = crashStage(kind, 'saga_prop', PROPERTY_ENV);
  let ledger: SagaLedger;
  let coordinator: CrashingCoordinator;
  const stats = { runs: 0, sagas: 0, committed: 0, rolledBack: 0, neverLogged: 0, emptyCompensations: 0, actionCalls: 0, compensateCalls: 0 };

  async function runOne(run: { sagas: SagaCase[]; crashes: number[] }) {
    stats.runs++;
    const xids = run.sagas.map((_, i) => `prop-${stats.runs}-${i}-${Math.random().toString(36).slice(2, 8)}`);
    const begins = run.sagas.map((c, i) => {
      ledger.expect(xids[i]!, c);
      const steps = graphSteps(c).map((s) => ({ branchId: s.branchId, action: `p.${s.branchId}`, ...stage.p.sagaUrls(`p.${s.branchId}`), payload: { n: s.branchId }, ...afterField(c, s) }));
      // null: the coordinator died under the request
      return api(coordinator.url, 'POST', '/v1/transactions', { mode: 'saga', xid: xids[i], timeoutMs: c.timeoutMs, wait: c.wait, steps }).catch(() => null);
    });
    const settled = Promise.all(begins);
    await coordinator.crash(run.crashes, stage.p, xids, settled);
    const answers = await settled;
    for (const [i, c] of run.sagas.entries()) {
      const xid = xids[i]!;
      const begun = answers[i];
      if (begun) expect([200, 201, 202], JSON.stringify(begun.body)).toContain(begun.status);
      const tx = await eventually(async () => {
        const r = await api(coordinator.url, 'GET', `/v1/transactions/${xid}`);
        if (r.status === 404 && !begun) return { status: 'never logged', branches: [] as { branchId: string; status: string }[] };
        return TERMINAL.has(r.body.status) ? r.body : null;
      }, 45_000);
      await eventually(async () => ledger.inFlight === 0, 10_000, 50); // hangs still under way do their work first
      checkSaga(xid, c, tx, run.crashes.length > 0);
      if (begun?.status === 200) expect(begun.body.status, 'a waited answer is the final status').toBe(tx.status);
    }
  }

  function checkSaga(xid: string, c: SagaCase, tx: { status: string; mode?: string; branches: { branchId: string; status: string; result?: unknown }[] }, crashed: boolean) {
    stats.sagas++;
    const steps = graphSteps(c);
    const led = (s: GraphStep) => ledger.of(xid, s.branchId);
    const where = `${xid} ${JSON.stringify(c)} -> ${JSON.stringify(tx)}`;
    for (const s of steps) {
      stats.actionCalls += led(s).actionCalls;
      stats.compensateCalls += led(s).compensateCalls;
    }
    if (tx.status === 'never logged') {
      // the coordinator died before the begin's write: nothing may have been called
      stats.neverLogged++;
      for (const s of steps) expect(led(s).actionCalls + led(s).compensateCalls, where).toBe(0);
      return;
    }
    expect(tx.mode, where).toBe('saga');
    expect(tx.branches.map((b) => b.branchId), where).toEqual(steps.map((s) => s.branchId));
    const branch = new Map(tx.branches.map((b) => [b.branchId, b]));
    // forward: a step is first called once every step it runs after has answered 2xx, and gets their results
    for (const s of steps) {
      const first = led(s).firstActionCallAt;
      if (first === null) continue;
      for (const a of s.ancestors) {
        const ok = ledger.of(xid, a).actionOkAt;
        expect(ok !== null && ok <= first, `${s.branchId} called before ${a} was done: ${where}`).toBe(true);
      }
      for (const r of led(s).results) for (const d of s.direct) expect(r[d], `${s.branchId}'s results lack ${d}: ${where}`).toEqual({ did: d });
    }
    if (tx.status === 'committed') {
      stats.committed++;
      for (const s of steps) {
        expect(branch.get(s.branchId)!.status, where).toBe('done');
        expect(branch.get(s.branchId)!.result, where).toEqual({ did: s.branchId });
        expect(led(s).actionApplied, `${s.branchId} applied once: ${where}`).toBe(1);
        expect(led(s).compensateCalls, `${s.branchId} never compensated: ${where}`).toBe(0);
      }
      return;
    }
    expect(tx.status, where).toBe('rolled_back');
    stats.rolledBack++;
    for (const s of steps) {
      const l = led(s);
      const status = branch.get(s.branchId)!.status;
      if (l.actionCalls > 0) {
        expect(status, `${s.branchId} was called: ${where}`).toBe('compensated');
        expect(l.compensations, `${s.branchId} compensated once: ${where}`).toBe(1);
        expect(l.balance, `${s.branchId}'s effect undone: ${where}`).toBe(0);
      } else if (status === 'compensated') {
        // marked called in the log, then the coordinator died before the call left: an empty compensation
        expect(crashed, `${s.branchId} compensated but never called, with no crash: ${where}`).toBe(true);
        expect(l.compensations, where).toBe(1);
        stats.emptyCompensations++;
      } else {
        expect(status, where).toBe('registered');
        expect(l.compensateCalls, `${s.branchId} never called yet compensated: ${where}`).toBe(0);
      }
    }
    // reverse: a step is first compensated only after every step that ran after it answered its compensation
    for (const s of steps) {
      const first = led(s).firstCompensateCallAt;
      if (first === null) continue;
      for (const later of steps.filter((t) => t.ancestors.has(s.branchId))) {
        if (led(later).compensateCalls === 0) continue;
        const ok = led(later).compensateOkAt;
        expect(ok !== null && ok <= first, `${s.branchId} compensated before ${later.branchId}: ${where}`).toBe(true);
      }
    }
  }

  test(`${settings.numRuns} random runs (seed ${PROPERTY_SEED})`, async () => {
    await stage.open();
    ledger = new SagaLedger(stage.p);
    coordinator = new CrashingCoordinator(() => stage.spawn());
    await coordinator.start();
    try {
      await fc.assert(fc.asyncProperty(runCase, runOne), settings);
    } finally {
      console.info(`[saga property ${kind}] seed ${PROPERTY_SEED}, ${settings.numRuns} runs, ${coordinator?.crashes} crashes: ${JSON.stringify(stats)}`);
    }
  }, settings.numRuns * 60_000 + 30_000);
});
