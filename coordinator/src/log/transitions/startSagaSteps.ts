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

/** Marks steps called (a step called before keeps its first time); run after the saga's hold, which guards it. */
export async function markStepsCalled(trx: Knex.Transaction, xid: string, branchIds: string[], now: number): Promise<void> {
  await trx(BRANCH_TABLE).where({ xid }).whereIn('branch_id', branchIds).whereNull('called_at').update({ called_at: now, updated_at: now });
}
