import type { Json, TxStatus } from '@dtx/protocol';
import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { readySteps } from '../core/saga-graph.js';
import { readStatus } from '../log/queries/readStatus.js';
import { parseJson, type BranchRecord, type TxRecord } from '../log/records.js';
import { holdSaga } from '../log/transitions/holdSaga.js';
import { recordSagaStep } from '../log/transitions/recordSagaStep.js';
import { rollBackSaga } from '../log/transitions/rollBackSaga.js';
import { startSagaSteps } from '../log/transitions/startSagaSteps.js';
import type { Phase2Deps } from '../phase2/run-phase2.js';
import { parseDtmOptions } from '../dtm/dialect.js';
import { callStep, HOLD_MARGIN_MS, type StepRun } from './call-step.js';

/** Steps the write that logged the saga (its begin, in this process) marked called, at `markedAt`, and held for. */
export interface PreStarted {
  branchIds: readonly string[];
  markedAt: number;
}

/** How a forward path ended: the saga's status, and whether this path took its decision (and so drives what follows). */
export interface ForwardEnd {
  status: TxStatus;
  decidedHere: boolean;
}

/**
 * A saga's forward path (PROTOCOL.md v1.2), from what the log holds: every step whose
 * `after` steps are done starts (several at once when the graph allows), each marked
 * called and the saga held (its next_retry_at) before its call; each step's completion
 * is logged before the steps after it start; the last one's write commits the saga. A
 * refusal or the deadline decides `rolling_back` (the caller then compensates). A
 * resumed saga (recovery) skips the steps already done and calls again those that were
 * called without an outcome: the participant's barrier answers a repeat without running twice.
 * A step this path marked called and then never called (the deadline passed first) is
 * unmarked by the rollback's write, so it is not compensated.
 * Stops, answering the status in the log, as soon as the saga is no longer trying.
 */
export async function runForward(
  deps: Phase2Deps,
  tx: Pick<TxRecord, 'xid' | 'deadline'> & Partial<Pick<TxRecord, 'dtmJson'>>,
  steps: readonly BranchRecord[],
  parent: Context = ROOT_CONTEXT,
  preStarted: PreStarted = { branchIds: [], markedAt: 0 },
): Promise<ForwardEnd> {
  const xid = tx.xid;
  const dtm = parseDtmOptions(tx.dtmJson);
  const graph = steps.map((s) => ({ branchId: s.branchId, after: s.afterIds ?? [] }));
  const byId = new Map(steps.map((s) => [s.branchId, s]));
  const results: Record<string, Json> = {};
  const done = new Set<string>();
  for (const s of steps) {
    if (s.status !== 'done') continue;
    done.add(s.branchId);
    const r = parseJson(s.tryResultJson);
    if (r !== undefined) results[s.branchId] = r;
  }
  const running = new Map<string, Promise<StepRun>>();
  const started = new Set(preStarted.branchIds); // marked called and held for, not yet running
  // the called_at this path wrote, by step: only a mark of its own may be taken back (an earlier driver's call may have run)
  const markedAt = new Map(preStarted.branchIds.map((id) => [id, preStarted.markedAt]));
  const stop = { stopped: false };
  const hold = (until: number) => (stop.stopped ? Promise.resolve(false) : deps.log.write((trx) => holdSaga(trx, xid, until, deps.now())));
  const holdFor = (ids: string[]) => deps.now() + Math.max(...ids.map((id) => byId.get(id)!.timeoutMs ?? deps.options.callTimeoutMs)) + HOLD_MARGIN_MS;
  // stopped: the saga left trying by another's decision (a rollback request, recovery), which drives what follows
  const status = async (): Promise<ForwardEnd> => ({ status: (await deps.log.read((db) => readStatus(db, xid))).status, decidedHere: false });
  try {
    for (;;) {
      const ready = readySteps(graph, done, new Set(running.keys()));
      if (ready.length > 0) {
        const now = deps.now();
        const unheld = ready.filter((id) => !started.has(id));
        if (unheld.length > 0 && !(await deps.log.write((trx) => startSagaSteps(trx, { xid, branchIds: unheld, now, holdUntil: holdFor(unheld) })))) return await status();
        for (const id of unheld) markedAt.set(id, now);
        for (const id of ready) {
          started.delete(id);
          // a retry's wait does not keep a stopping process alive: the step's hold lapses and recovery resumes it
          const call = { xid, step: byId.get(id)!, results: { ...results }, deadline: tx.deadline, parent, hold, sleep: (ms: number) => sleep(ms, undefined, { ref: false }), dtm };
          running.set(id, callStep(deps, call));
        }
      }
      if (running.size === 0) return await status(); // nothing left to run: every step done (committed by its write)
      const run = await Promise.race(running.values());
      running.delete(run.branchId);
      const now = deps.now();
      if (run.kind === 'stopped') return await status();
      if (run.kind === 'done') {
        const last = done.size + 1 === steps.length;
        // the steps this completion lets start are marked called in the same write: one write per step
        const next = readySteps(graph, new Set([...done, run.branchId]), new Set(running.keys()));
        const holdUntil = next.length > 0 ? holdFor(next) : now;
        const written = await deps.log.write((trx) => recordSagaStep(trx, { xid, branchId: run.branchId, resultJson: run.resultJson, calls: run.calls, now, start: next, holdUntil, last }));
        if (!written) return await status();
        done.add(run.branchId);
        for (const id of next) {
          started.add(id);
          markedAt.set(id, now);
        }
        const r = parseJson(run.resultJson);
        if (r !== undefined) results[run.branchId] = r;
        if (last) {
          deps.metrics?.decisions.inc({ decision: 'commit', reason: 'saga done', mode: 'saga' });
          deps.metrics?.finished.inc({ status: 'committed' });
          deps.logger?.info({ xid, decision: 'commit', by: 'saga' }, 'decision');
          return { status: 'committed', decidedHere: true };
        }
        continue;
      }
      const timeout = run.kind === 'timeout';
      const reason = timeout ? 'timeout' : `action refused: ${run.error}`;
      const failed = timeout ? undefined : { branchId: run.branchId, error: run.error };
      const mark = markedAt.get(run.branchId);
      const neverCalled = timeout && run.calls.length === 0 && mark !== undefined ? { branchId: run.branchId, calledAt: mark } : undefined;
      const won = await deps.log.write((trx) => rollBackSaga(trx, { xid, failed, neverCalled, reason, calls: run.calls, now, leaseUntil: now + deps.leaseMs }));
      if (won) {
        deps.metrics?.decisions.inc({ decision: 'rollback', reason: timeout ? 'timeout' : 'action refused', mode: 'saga' });
        deps.logger?.info({ xid, decision: 'rollback', reason, by: 'saga' }, 'decision');
      }
      return won ? { status: 'rolling_back', decidedHere: true } : await status();
    }
  } finally {
    stop.stopped = true; // steps still retrying stop at their next hold
  }
}
