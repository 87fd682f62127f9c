import type { TxStatus } from '@dtx/protocol';
import type { Context } from '@opentelemetry/api';
import type { ResolvedOptions } from '../config/options.js';
import { planAfterRound, type CallOutcome } from '../core/phase2-outcome.js';
import { roundLeaseMs } from '../core/round-lease.js';
import { planRound } from '../core/round-plan.js';
import { readySteps } from '../core/saga-graph.js';
import { finalStatus, isDecided } from '../core/transitions.js';
import type { AttemptRecord } from '../log/attempt-records.js';
import type { DtxLogger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { parseJson, type BranchRecord, type TxRecord } from '../log/records.js';
import type { TransactionLog } from '../log/transaction-log.js';
import { finishRoundWrite } from '../log/transitions/finishRound.js';
import { extendLease } from '../log/transitions/extendLease.js';
import { recordRoundFailure } from '../log/transitions/recordRoundFailure.js';
import { contextOf } from '../tracing/trace-context.js';
import { deliveryNotBefore, parseDtmOptions } from '../dtm/dialect.js';
import { dtmRound } from '../dtm/round-order.js';
import type { ParticipantCaller } from './participant-caller.js';
import { tracedCall } from './traced-call.js';

export interface Phase2Deps {
  log: TransactionLog;
  caller: ParticipantCaller;
  /** The lease a decision or a recovery claim takes; a round that may last longer lengthens it first. */
  leaseMs: number;
  options: Pick<ResolvedOptions, 'retryBaseMs' | 'retryMaxMs' | 'callTimeoutMs' | 'stuckAfterAttempts'>;
  now: () => number;
  metrics?: Metrics;
  logger?: DtxLogger;
}

/** What a round needs of the transaction, as last read or written. */
export type RoundTx = Pick<TxRecord, 'xid' | 'mode' | 'status' | 'order' | 'attempts' | 'traceParent' | 'traceState'> & Partial<Pick<TxRecord, 'dtmJson' | 'createdAt'>>;

/**
 * One round of phase 2: confirm (or cancel) every branch not yet done, then log
 * the outcome in one write: finished, or the failed branches and when to retry.
 * Which branches, in which order, is the mode's round plan (core/round-plan.ts): a
 * sequential round stops at the first failure; a saga compensates its called steps
 * one at a time in reverse of the `after` order; a message delivers its steps by their
 * `after` lists, each wave once the one before it is delivered. A transaction that is
 * not decided (still trying, or finished) has nothing to drive: its status is returned.
 * Each call is a span under `parent` (recovery's span), else under the transaction's stored trace.
 */
export async function runPhase2(deps: Phase2Deps, seen: RoundTx, branches: readonly BranchRecord[], parent?: Context): Promise<TxStatus> {
  if (!isDecided(seen.status)) return seen.status;
  const tx = { ...seen, status: seen.status };
  const dtm = parseDtmOptions(tx.dtmJson);
  // a DTM message's `delay`: its deliveries wait (held by the lease) until its creation + delay
  const notBefore = seen.createdAt === undefined ? null : deliveryNotBefore(dtm, seen.createdAt);
  if (notBefore !== null && deps.now() < notBefore) {
    await deps.log.write((trx) => extendLease(trx, tx.xid, tx.status, notBefore));
    return tx.status;
  }
  const { phase, pending, order } = dtmRound(dtm, planRound(tx.mode, tx.status, tx.order, branches));

  const timeoutOf = (b: BranchRecord) => b.timeoutMs ?? deps.options.callTimeoutMs;
  const leaseNeeded = roundLeaseMs(pending.map(timeoutOf), order === 'parallel' ? 'parallel' : 'sequential');
  if (leaseNeeded > deps.leaseMs && !(await deps.log.write((trx) => extendLease(trx, tx.xid, tx.status, deps.now() + leaseNeeded)))) {
    return tx.status; // finished by another process meanwhile
  }

  const traceParent = parent ?? contextOf(tx.traceParent, tx.traceState);
  const outcomes: (CallOutcome & { action: string | null })[] = [];
  const calls: AttemptRecord[] = [];
  const callOne = async (b: BranchRecord): Promise<CallOutcome & { action: string | null }> => {
    // a message's delivery calls its action's URL, kept as confirm_url
    const url = phase === 'confirm' || phase === 'action' ? b.confirmUrl : b.cancelUrl;
    const tryResult = parseJson(b.tryResultJson);
    // a saga's compensation gets its action's `result`; a TCC confirm or cancel its `tryResult`
    const resultKey = phase === 'compensate' ? 'result' : 'tryResult';
    const request = {
      url,
      attempt: b.attempts + 1,
      timeoutMs: timeoutOf(b),
      dtm,
      body: { xid: tx.xid, branchId: b.branchId, phase, ...(b.action !== null ? { action: b.action } : {}), payload: parseJson(b.payloadJson), ...(tryResult !== undefined ? { [resultKey]: tryResult } : {}) },
    };
    const { answer, record } = await tracedCall(deps, request, b.action, traceParent);
    calls.push(record);
    const ok = answer.kind === 'ok';
    deps.metrics?.phase2Calls.inc({ phase, outcome: ok ? 'ok' : 'failed' });
    return {
      branchId: b.branchId,
      action: b.action,
      ok,
      error: ok ? undefined : answer.status === null ? `${answer.error} (POST ${url})` : answer.error,
      retryAfterMs: answer.retryAfterMs,
    };
  };

  if (order === 'sequential') {
    for (const b of pending) {
      const o = await callOne(b);
      outcomes.push(o);
      if (!o.ok) break;
    }
  } else if (order === 'after') {
    // steps done before this round count as done: only the pending ones wait for each other
    const byId = new Map(pending.map((b) => [b.branchId, b]));
    const graph = pending.map((b) => ({ branchId: b.branchId, after: (b.afterIds ?? []).filter((id) => byId.has(id)) }));
    const done = new Set<string>();
    for (let wave = readySteps(graph, done, new Set()); wave.length > 0; wave = readySteps(graph, done, new Set())) {
      const answered = await Promise.all(wave.map((id) => callOne(byId.get(id)!)));
      outcomes.push(...answered);
      if (answered.some((o) => !o.ok)) break;
      for (const o of answered) done.add(o.branchId);
    }
  } else {
    outcomes.push(...(await Promise.all(pending.map(callOne))));
  }

  const now = deps.now();
  const done = outcomes.filter((o) => o.ok).map((o) => o.branchId);
  const failures = outcomes.filter((o) => !o.ok).map((o) => ({ branchId: o.branchId, error: o.error ?? 'failed' }));
  const plan = planAfterRound(
    outcomes.map((o) => (o.ok ? o : { ...o, error: `${phase} ${o.action ?? o.branchId}: ${o.error}` })),
    tx.attempts,
    now,
    { baseMs: deps.options.retryBaseMs, maxMs: deps.options.retryMaxMs, stuckAfterAttempts: deps.options.stuckAfterAttempts },
  );

  if (plan.finished) {
    const finished = await deps.log.apply(finishRoundWrite, { xid: tx.xid, mode: tx.mode, from: tx.status, done, calls, now });
    if (finished) deps.metrics?.finished.inc({ status: finalStatus(tx.status) });
    return finished ? finalStatus(tx.status) : tx.status;
  }
  // not recorded: the transaction left tx.status meanwhile (another process finished it); the status this
  // round saw is still what it answers, and recovery or a reader finds the rest in the log
  await deps.log.write((trx) => recordRoundFailure(trx, { xid: tx.xid, mode: tx.mode, from: tx.status, done, failures, plan, calls, now }));
  return tx.status;
}
