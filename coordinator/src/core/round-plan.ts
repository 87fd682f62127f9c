import type { BranchStatus, TxMode } from '@dtx/protocol';
import { compensationOrder } from './saga-graph.js';
import { isBranchDone, phaseOf, type DecidedStatus } from './transitions.js';

/** What a round plan needs of a branch (a BranchRecord). */
export interface PlannedBranch {
  branchId: string;
  seq: number;
  status: BranchStatus;
  /** Saga: the steps it ran after. */
  afterIds: string[] | null;
  /** Saga: when its action was first called; null for a step never called. */
  calledAt: number | null;
}

/**
 * How a round calls its pending branches: all at once, one at a time (stopping at a
 * failure), or by `after`: in waves, each wave the steps whose `after` steps are done
 * side by side, stopping at a wave with a failure.
 */
export type RoundOrder = 'parallel' | 'sequential' | 'after';

export interface RoundPlanOf<B> {
  phase: 'confirm' | 'cancel' | 'compensate' | 'action';
  /** The branches to call this round, in the order a sequential round calls them. */
  pending: B[];
  order: RoundOrder;
}

/**
 * Which branches a phase-2 round calls, and how. TCC: every branch not done, in
 * registration order (cancels in reverse), in the transaction's order. Saga
 * (v1.2): only steps whose action was called, compensated one at a time in
 * reverse of the `after` order, so a step is compensated after those that followed it.
 * Message (v1.2): every step not delivered, by its `after` list (array order: one at a time).
 */
export function planRound<B extends PlannedBranch>(mode: TxMode, status: DecidedStatus, order: 'parallel' | 'sequential', branches: readonly B[]): RoundPlanOf<B> {
  const phase = phaseOf(status, mode);
  if (mode === 'saga') {
    const byId = new Map(branches.map((b) => [b.branchId, b]));
    const reverse = compensationOrder(branches.map((b) => ({ branchId: b.branchId, after: b.afterIds ?? [] })));
    const pending = reverse.map((id) => byId.get(id)!).filter((b) => b.calledAt !== null && !isBranchDone(b.status));
    return { phase, pending, order: 'sequential' };
  }
  if (mode === 'msg') return { phase, pending: branches.filter((b) => !isBranchDone(b.status)).sort((a, b) => a.seq - b.seq), order: 'after' };
  const pending = branches.filter((b) => !isBranchDone(b.status)).sort((a, b) => a.seq - b.seq);
  return { phase, pending: phase === 'cancel' ? pending.reverse() : pending, order };
}
