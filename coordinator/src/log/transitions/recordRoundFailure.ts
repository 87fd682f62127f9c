import type { Knex } from 'knex';
import type { RoundPlan } from '../../core/phase2-outcome.js';
import { BRANCH_TABLE, TX_TABLE } from '../records.js';

export interface BranchFailure {
  branchId: string;
  error: string;
}

/** A phase-2 round left branches undone: count the attempt, keep the error, schedule the retry. */
export async function recordRoundFailure(
  trx: Knex.Transaction,
  xid: string,
  from: 'committing' | 'rolling_back',
  plan: RoundPlan,
  failures: BranchFailure[],
  now: number,
): Promise<boolean> {
  for (const f of failures) {
    await trx(BRANCH_TABLE)
      .where({ xid, branch_id: f.branchId })
      .whereNotIn('status', ['confirmed', 'cancelled'])
      .update({ attempts: trx.raw('attempts + 1'), last_error: f.error.slice(0, 2000), updated_at: now });
  }
  const updated = await trx(TX_TABLE)
    .where({ xid, status: from })
    .update({
      attempts: plan.attempts,
      stuck: plan.stuck ? 1 : 0,
      next_retry_at: plan.nextRetryAt,
      last_error: plan.lastError,
      updated_at: now,
    });
  return updated === 1;
}
