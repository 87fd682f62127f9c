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

export interface RoundPlanOf<B> {
  phase: 'confirm' | 'cancel' | 'compensate';
  /** The branches to call this round, in the order a sequential round calls them. */
  pending: B[];
  order: 'parallel' | 'sequential';
}

/**
 * Which branches a phase-2 round calls, and how. TCC: every branch not done, in
 * registration order (cancels in reverse), in the transaction's order. Saga
 * (v1.2): only steps whose action was called, compensated one at a time in
 * reverse of the `after` order, so a step is compensated after those that followed it.
 */
export function planRound<B extends PlannedBranch>(mode: TxMode, status: DecidedStatus, order: 'parallel' | 'sequential', branches: readonly B[]): RoundPlanOf<B> {
  const phase = phaseOf(status, mode);
  if (mode === 'saga') {
    const byId = new Map(branches.map((b) => [b.branchId, b]));
    const reverse = compensationOrder(branches.map((b) => ({ branchId: b.branchId, after: b.afterIds ?? [] })));
    const pending = reverse.map((id) => byId.get(id)!).filter((b) => b.calledAt !== null && !isBranchDone(b.status));
    return { phase, pending, order: 'sequential' };
  }
  const pending = branches.filter((b) => !isBranchDone(b.status)).sort((a, b) => a.seq - b.seq);
  return { phase, pending: phase === 'cancel' ? pending.reverse() : pending, order };
}
