import type { TxStatus } from '@dtx/protocol';
import type { ResolvedOptions } from '../config/options.js';
import { planAfterRound, type CallOutcome } from '../core/phase2-outcome.js';
import { doneBranchStatus, finalStatus, isBranchDone, phaseOf } from '../core/transitions.js';
import type { Metrics } from '../metrics.js';
import { parseJson, type BranchOrder, type BranchRecord } from '../log/records.js';
import type { TransactionLog } from '../log/transaction-log.js';
import { markBranchesDone, markBranchesDoneAll } from '../log/transitions/markBranchesDone.js';
import { markFinished, markFinishedAll } from '../log/transitions/markFinished.js';
import { NotCoalesced, type Transition } from '../log/write-batcher.js';
import { recordRoundFailure } from '../log/transitions/recordRoundFailure.js';
import type { ParticipantCaller } from './participant-caller.js';

export interface Phase2Deps {
  log: TransactionLog;
  caller: ParticipantCaller;
  options: Pick<ResolvedOptions, 'retryBaseMs' | 'retryMaxMs' | 'callTimeoutMs' | 'stuckAfterAttempts'>;
  now: () => number;
  metrics?: Metrics;
}

export interface DecidedTx {
  xid: string;
  status: 'committing' | 'rolling_back';
  order: BranchOrder;
  attempts: number;
}

/**
 * One round of phase 2: confirm (or cancel) every branch not yet done, then log
 * the outcome in one write: finished, or the failed branches and when to retry.
 * Parallel by default; sequential confirms go in registration order, sequential
 * cancels in reverse, each stopping at the first failure.
 */
export async function runPhase2(deps: Phase2Deps, tx: DecidedTx, branches: readonly BranchRecord[]): Promise<TxStatus> {
  const phase = phaseOf(tx.status);
  let pending = branches.filter((b) => !isBranchDone(b.status)).sort((a, b) => a.seq - b.seq);
  if (phase === 'cancel') pending = pending.reverse();

  const outcomes: (CallOutcome & { action: string | null })[] = [];
  const callOne = async (b: BranchRecord): Promise<CallOutcome & { action: string | null }> => {
    const url = phase === 'confirm' ? b.confirmUrl : b.cancelUrl;
    const tryResult = parseJson(b.tryResultJson);
    const answer = await deps.caller.call({
      url,
      attempt: b.attempts + 1,
      timeoutMs: b.timeoutMs ?? deps.options.callTimeoutMs,
      body: { xid: tx.xid, branchId: b.branchId, phase, ...(b.action !== null ? { action: b.action } : {}), payload: parseJson(b.payloadJson), ...(tryResult !== undefined ? { tryResult } : {}) },
    });
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

  if (tx.order === 'sequential') {
    for (const b of pending) {
      const o = await callOne(b);
      outcomes.push(o);
      if (!o.ok) break;
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
    const finished = await deps.log.apply(finishRound, { xid: tx.xid, from: tx.status, done, now });
    if (finished) deps.metrics?.finished.inc({ status: finalStatus(tx.status) });
    return finished ? finalStatus(tx.status) : tx.status;
  }
  return deps.log.write(async (trx) => {
    await markBranchesDone(trx, tx.xid, done, doneBranchStatus(tx.status), now);
    await recordRoundFailure(trx, tx.xid, tx.status, plan, failures, now);
    return tx.status;
  });
}

interface FinishedRound {
  xid: string;
  from: 'committing' | 'rolling_back';
  /** The branches this round confirmed (or cancelled): all that were not done yet. */
  done: string[];
  now: number;
}

/**
 * The last round of a transaction: its branches done and the transaction finished, coalesced
 * with the batch's other finishes. Exported for bench/experiments/log-alone.ts.
 */
export const finishRound: Transition<FinishedRound, boolean> = {
  async one(trx, r) {
    await markBranchesDone(trx, r.xid, r.done, doneBranchStatus(r.from), r.now);
    return markFinished(trx, r.xid, r.from, r.now);
  },
  async many(trx, rounds) {
    const now = Math.max(...rounds.map((r) => r.now));
    for (const from of ['committing', 'rolling_back'] as const) {
      const finishing = rounds.filter((r) => r.from === from);
      if (finishing.length === 0) continue;
      await markBranchesDoneAll(trx, finishing.flatMap((r) => r.done.map((id): [string, string] => [r.xid, id])), doneBranchStatus(from), now);
      if (!(await markFinishedAll(trx, finishing.map((r) => r.xid), from, now))) throw new NotCoalesced('not every transaction finished');
    }
    return rounds.map(() => true);
  },
};

