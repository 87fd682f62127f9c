import type { PlannedBranch, RoundPlanOf } from '../core/round-plan.js';
import type { DtmOptions } from './dialect.js';

/**
 * DTM's order for a phase-2 round of a DTM-begun transaction: TCC confirms and cancels
 * one at a time in reverse registration order, XA commits and rolls back one at a time
 * in registration order, stopping at the first failure. Sagas and messages keep DTX's plan.
 */
export function dtmRound<B extends PlannedBranch>(dtm: DtmOptions | null, plan: RoundPlanOf<B>): RoundPlanOf<B> {
  if (dtm === null || (dtm.trans_type !== 'tcc' && dtm.trans_type !== 'xa')) return plan;
  const bySeq = [...plan.pending].sort((a, b) => a.seq - b.seq);
  return { phase: plan.phase, pending: dtm.trans_type === 'tcc' ? bySeq.reverse() : bySeq, order: 'sequential' };
}
