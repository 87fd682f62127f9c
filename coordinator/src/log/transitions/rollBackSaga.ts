import type { Knex } from 'knex';
import { branchSourcesOf } from '../../core/transitions.js';
import type { AttemptRecord } from '../attempt-records.js';
import { BRANCH_TABLE, clipError } from '../records.js';
import { markRollingBack } from './markRollingBack.js';
import { recordAttempts, trimAttempts } from './recordAttempts.js';

export interface SagaRollback {
  xid: string;
  /** The step whose action was refused (`failed`); absent for the deadline. */
  failed?: { branchId: string; error: string };
  /** A step the driver marked called (`calledAt`, its own mark) and never called: the deadline came first. */
  neverCalled?: { branchId: string; calledAt: number };
  reason: string;
  calls: AttemptRecord[];
  now: number;
  leaseUntil: number;
}

/**
 * The forward path of a saga ends in a rollback decision (a refused action, or the
 * deadline): the refused step is `failed`, its calls join the history, and the
 * guarded decision (markRollingBack) is taken, all in one write. The step's outcome
 * is recorded whoever decided first, since it is true either way. A step that was
 * marked called and never called is unmarked (not compensated), guarded on the mark
 * being the driver's own: one set by an earlier driver, whose call may have run, stays.
 */
export async function rollBackSaga(trx: Knex.Transaction, r: SagaRollback): Promise<boolean> {
  await recordAttempts(trx, r.calls);
  await trimAttempts(trx, r.calls);
  if (r.failed) {
    await trx(BRANCH_TABLE)
      .where({ xid: r.xid, branch_id: r.failed.branchId })
      .whereIn('status', branchSourcesOf('failed'))
      .update({ status: 'failed', last_error: clipError(r.failed.error), updated_at: r.now });
  }
  if (r.neverCalled) {
    await trx(BRANCH_TABLE)
      .where({ xid: r.xid, branch_id: r.neverCalled.branchId, called_at: r.neverCalled.calledAt, status: 'registered' })
      .update({ called_at: null, updated_at: r.now });
  }
  return markRollingBack(trx, r.xid, r.reason, r.now, r.leaseUntil);
}
