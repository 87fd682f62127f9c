import type { TxMode } from '@dtx/protocol';
import type { Knex } from 'knex';
import type { AttemptRecord } from '../attempt-records.js';
import type { RoundPlan } from '../../core/phase2-outcome.js';
import { DONE_BRANCH_STATUSES, doneBranchStatus, type DecidedStatus } from '../../core/transitions.js';
import { BRANCH_TABLE, clipError, TX_TABLE } from '../records.js';
import { markBranchesDone } from './markBranchesDone.js';
import { recordAttempts, trimAttempts } from './recordAttempts.js';

export interface BranchFailure {
  branchId: string;
  error: string;
}

export interface FailedRound {
  xid: string;
  /** Default `tcc`; a saga's branches end `compensated`. */
  mode?: TxMode;
  from: DecidedStatus;
  /** The branches this round did confirm (or cancel). */
  done: string[];
  failures: BranchFailure[];
  plan: RoundPlan;
  /** The calls this round made, for the attempt history. */
  calls: AttemptRecord[];
  now: number;
}

/**
 * A phase-2 round left branches undone: the ones it did are marked done, the others
 * count the attempt and keep their error, the calls join the attempt history, and the
 * transaction gets its retry time.
 * False when the transaction is no longer `from` (another process finished it first).
 */
export async function recordRoundFailure(trx: Knex.Transaction, r: FailedRound): Promise<boolean> {
  const { xid, now } = r;
  await markBranchesDone(trx, xid, r.done, doneBranchStatus(r.from, r.mode ?? 'tcc'), now);
  await recordAttempts(trx, r.calls);
  await trimAttempts(trx, r.calls);
  for (const f of r.failures) {
    await trx(BRANCH_TABLE)
      .where({ xid, branch_id: f.branchId })
      .whereNotIn('status', DONE_BRANCH_STATUSES)
      .update({ attempts: trx.raw('attempts + 1'), last_error: clipError(f.error), updated_at: now });
  }
  const updated = await trx(TX_TABLE)
    .where({ xid, status: r.from })
    .update({
      attempts: r.plan.attempts,
      stuck: r.plan.stuck ? 1 : 0,
      next_retry_at: r.plan.nextRetryAt,
      last_error: clipError(r.plan.lastError),
      updated_at: now,
    });
  return updated === 1;
}
