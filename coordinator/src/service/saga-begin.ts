import type { BeginRequest } from '@dtx/protocol';
import { readySteps } from '../core/saga-graph.js';
import { isFinal } from '../core/transitions.js';
import { HOLD_MARGIN_MS } from '../saga/call-step.js';
import { TxExistsError } from '../errors.js';
import { readBranches, readTxWithBranches } from '../log/queries/readTransaction.js';
import { newTxRecord, type TxRecord } from '../log/records.js';
import { insertTransactionWrite } from '../log/transitions/insertTransaction.js';
import type { StoredTrace } from '../tracing/trace-context.js';
import type { DrivenDeps } from './driven.js';
import { sameSteps, stepRecords } from './steps-input.js';
import { stepsView } from './views.js';

/** A saga's begin answer: 200 once it ended within the request's time, 202 while it still runs (or was not waited for). */
export interface SagaAnswer {
  created: boolean;
  code: 200 | 202;
  view: ReturnType<typeof stepsView>;
}

/** A saga's or a message's begin, as the service resolved it. */
export interface StepsBegin {
  xid: string;
  timeoutMs: number;
  metaJson: string | null;
  /** How long `"wait": true` waits. */
  waitTrueMs: number;
  /** Begun through the DTM-compatible surface: its DTM options (dtm/dialect.ts). */
  dtmJson?: string | null;
}

/**
 * Begin of a saga (PROTOCOL.md v1.2): the saga and all its steps in one write, held by
 * this process (its next_retry_at is the driver's lease, not the deadline), then its
 * forward path runs here as a tracked round (saga/drive-saga.ts); a driver that dies
 * leaves it to recovery once the hold lapses. A repeat with the same steps answers the
 * saga's state (waiting as the first request would have); other settings are TX_EXISTS.
 */
export async function beginSaga(deps: DrivenDeps, b: StepsBegin, req: BeginRequest, trace?: StoredTrace): Promise<SagaAnswer> {
  const now = deps.now();
  // the steps that run first are marked called, and the saga held for their calls, by the begin's own write
  const checked = stepRecords(b.xid, 'saga', req, now, { ...deps.options, emptyUrlMeansNoCall: (b.dtmJson ?? null) !== null });
  const first = new Set(readySteps(checked.map((s) => ({ branchId: s.branchId, after: s.afterIds ?? [] })), new Set(), new Set()));
  const steps = checked.map((s) => (first.has(s.branchId) ? { ...s, calledAt: now } : s));
  const callsMs = Math.max(...steps.filter((s) => first.has(s.branchId)).map((s) => s.timeoutMs ?? deps.options.callTimeoutMs));
  const heldUntil = now + Math.max(deps.options.phase2LeaseMs, callsMs + HOLD_MARGIN_MS);
  const tx = newTxRecord({ xid: b.xid, mode: 'saga', timeoutMs: b.timeoutMs, order: 'parallel', metaJson: b.metaJson, now, trace, heldUntil, dtmJson: b.dtmJson ?? null });
  const inserted = await deps.log.apply(insertTransactionWrite, { tx, branches: steps });
  const waitMs = req.wait === false ? 0 : typeof req.wait === 'number' ? req.wait : b.waitTrueMs;
  if (inserted.created) {
    const running = deps.rounds.driveSaga(tx, steps);
    if (waitMs > 0) await deps.rounds.waitForFinal(b.xid, 'trying', running, deps.now() + waitMs, true);
    return answer(deps, b.xid, true);
  }
  const existing: TxRecord = inserted.existing;
  const logged = await deps.log.read((db) => readBranches(db, b.xid));
  if (existing.mode !== 'saga' || existing.timeoutMs !== b.timeoutMs || existing.metaJson !== b.metaJson || existing.dtmJson !== (b.dtmJson ?? null) || !sameSteps(logged, steps)) {
    throw new TxExistsError(b.xid, existing.status, 'with other settings');
  }
  if (waitMs > 0 && !isFinal(existing.status)) await deps.rounds.waitForFinal(b.xid, existing.status, deps.rounds.running(b.xid), deps.now() + waitMs, true);
  return answer(deps, b.xid, false);
}

async function answer(deps: DrivenDeps, xid: string, created: boolean): Promise<SagaAnswer> {
  const found = (await deps.log.read((db) => readTxWithBranches(db, xid)))!;
  return { created, code: isFinal(found.tx.status) ? 200 : 202, view: stepsView(found.tx, found.branches) };
}
