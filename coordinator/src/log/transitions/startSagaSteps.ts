import type { Knex } from 'knex';
import { BRANCH_TABLE } from '../records.js';
import { holdSaga } from './holdSaga.js';

/**
 * Before a saga's steps are first called: each is marked called (so a coordinator that
 * dies mid-call still has it compensated) and the saga is held for their calls. False,
 * marking nothing, when the saga is no longer trying.
 */
export async function startSagaSteps(trx: Knex.Transaction, s: { xid: string; branchIds: string[]; now: number; holdUntil: number }): Promise<boolean> {
  if (!(await holdSaga(trx, s.xid, s.holdUntil, s.now))) return false;
  await markStepsCalled(trx, s.xid, s.branchIds, s.now);
  return true;
}

/**
 * Marks steps called, with this driver's time: a step an earlier driver marked gets the new
 * mark too, so a driver taking back its own mark (rollBackSaga's neverCalled, guarded on the
 * time it wrote) never takes back one a later driver set before calling. Run after the
 * saga's hold, which guards it; steps with an outcome keep theirs.
 */
export async function markStepsCalled(trx: Knex.Transaction, xid: string, branchIds: string[], now: number): Promise<void> {
  await trx(BRANCH_TABLE).where({ xid, status: 'registered' }).whereIn('branch_id', branchIds).update({ called_at: now, updated_at: now });
}
