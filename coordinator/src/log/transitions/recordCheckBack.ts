import type { Knex } from 'knex';
import type { RoundPlan } from '../../core/phase2-outcome.js';
import type { AttemptRecord } from '../attempt-records.js';
import { clipError, TX_TABLE } from '../records.js';
import { commitMessage } from './commitMessage.js';
import { recordAttempts, trimAttempts } from './recordAttempts.js';
import { rollBackMessage } from './rollBackMessage.js';

/** What a check-back's answer decides: 200 commit, 409 roll back, anything else ask again after the plan's backoff. */
export type CheckOutcome = { kind: 'commit'; leaseUntil: number } | { kind: 'rollback'; reason: string } | { kind: 'ask again'; plan: RoundPlan };

export interface CheckBack {
  xid: string;
  /** The check-back call, for the attempt history. */
  call: AttemptRecord;
  outcome: CheckOutcome;
  now: number;
}

/**
 * A message's check-back answered (v1.2): the call joins the attempt history and its
 * outcome is taken in the same write: the guarded decision (commitMessage,
 * rollBackMessage), or, while the message is still trying, the failed round counted
 * and its next check-back time set (stuck past stuckAfterAttempts, as phase 2 does).
 * False when the message left trying first (its producer's commit or rollback won).
 */
export async function recordCheckBack(trx: Knex.Transaction, c: CheckBack): Promise<boolean> {
  await recordAttempts(trx, [c.call]);
  await trimAttempts(trx, [c.call]);
  const o = c.outcome;
  if (o.kind === 'commit') return commitMessage(trx, c.xid, c.now, o.leaseUntil);
  if (o.kind === 'rollback') return rollBackMessage(trx, c.xid, o.reason, c.now);
  const updated = await trx(TX_TABLE)
    .where({ xid: c.xid, status: 'trying', tx_mode: 'msg' })
    .update({ attempts: o.plan.attempts, stuck: o.plan.stuck ? 1 : 0, next_retry_at: o.plan.nextRetryAt, last_error: clipError(o.plan.lastError), updated_at: c.now });
  return updated === 1;
}
