import type { Knex } from 'knex';
import { branchSourcesOf } from '../../core/transitions.js';
import type { AttemptRecord } from '../attempt-records.js';
import { BRANCH_TABLE } from '../records.js';
import { commitSaga } from './commitSaga.js';
import { holdSaga } from './holdSaga.js';
import { markStepsCalled } from './startSagaSteps.js';
import { recordAttempts, trimAttempts } from './recordAttempts.js';

export interface DoneStep {
  xid: string;
  branchId: string;
  /** JSON text of what the action answered; null when it answered nothing. */
  resultJson: string | null;
  calls: AttemptRecord[];
  now: number;
  /** The steps this one's completion lets start: marked called in the same write. */
  start: string[];
  /** The saga's lease, kept as it is or lengthened (for the steps starting). */
  holdUntil: number;
  /** This was the last step: the saga commits in the same write. */
  last: boolean;
}

/**
 * A saga step's action answered 2xx: the step is `done` with its result, durably,
 * before any step that runs after it starts; the steps it lets start are marked called
 * in the same write (startSagaSteps' work, without a write of its own). With the last
 * step, the commit decision (commitSaga) is in the same write. False, writing nothing, once the saga is no longer trying.
 */
export async function recordSagaStep(trx: Knex.Transaction, s: DoneStep): Promise<boolean> {
  if (!(await holdSaga(trx, s.xid, s.holdUntil, s.now))) return false;
  await recordAttempts(trx, s.calls);
  await trimAttempts(trx, s.calls);
  await trx(BRANCH_TABLE)
    .where({ xid: s.xid, branch_id: s.branchId })
    .whereIn('status', branchSourcesOf('done'))
    .update({ status: 'done', try_result: s.resultJson, last_error: null, updated_at: s.now });
  if (s.start.length > 0) await markStepsCalled(trx, s.xid, s.start, s.now);
  return s.last ? commitSaga(trx, s.xid, s.now) : true;
}
