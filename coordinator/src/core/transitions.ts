import type { BranchStatus, TxStatus } from '@dtx/protocol';

/** The global transaction's state machine, PROTOCOL.md "States". */
const TX_NEXT: Record<TxStatus, readonly TxStatus[]> = {
  trying: ['committing', 'rolling_back'],
  committing: ['committed'],
  rolling_back: ['rolled_back'],
  committed: [],
  rolled_back: [],
};

const BRANCH_NEXT: Record<BranchStatus, readonly BranchStatus[]> = {
  registered: ['tried', 'try_failed', 'confirmed', 'cancelled'],
  tried: ['tried', 'try_failed', 'confirmed', 'cancelled'],
  try_failed: ['tried', 'try_failed', 'cancelled'],
  confirmed: [],
  cancelled: [],
};

export const canTransition = (from: TxStatus, to: TxStatus): boolean => TX_NEXT[from].includes(to);
export const canTransitionBranch = (from: BranchStatus, to: BranchStatus): boolean => BRANCH_NEXT[from].includes(to);

/** The statuses a guarded UPDATE may move from to reach `to`: the log's guards come from these tables. */
export const txSourcesOf = (to: TxStatus): TxStatus[] => (Object.keys(TX_NEXT) as TxStatus[]).filter((from) => canTransition(from, to));
export const branchSourcesOf = (to: BranchStatus): BranchStatus[] =>
  (Object.keys(BRANCH_NEXT) as BranchStatus[]).filter((from) => canTransitionBranch(from, to));

/** Decided, phase 2 not finished. */
export type DecidedStatus = 'committing' | 'rolling_back';
export type FinalStatus = 'committed' | 'rolled_back';
/** A branch whose phase 2 is done. */
export type DoneBranchStatus = 'confirmed' | 'cancelled';

export const DECIDED_STATUSES: readonly DecidedStatus[] = ['committing', 'rolling_back'];
export const FINAL_STATUSES: readonly FinalStatus[] = ['committed', 'rolled_back'];
export const DONE_BRANCH_STATUSES: readonly DoneBranchStatus[] = ['confirmed', 'cancelled'];

export const isDecided = (s: TxStatus): s is DecidedStatus => (DECIDED_STATUSES as readonly TxStatus[]).includes(s);
export const isFinal = (s: TxStatus): s is FinalStatus => (FINAL_STATUSES as readonly TxStatus[]).includes(s);
export const isBranchDone = (s: BranchStatus): s is DoneBranchStatus => (DONE_BRANCH_STATUSES as readonly BranchStatus[]).includes(s);

/** The statuses that still have work for recovery: phase 2 to finish, or a deadline to enforce. */
export const UNFINISHED: readonly TxStatus[] = ['trying', 'committing', 'rolling_back'];

export type Verb = 'commit' | 'rollback';

/** What a commit or rollback meets when the transaction has already been decided. */
export function verbAgainst(verb: Verb, status: TxStatus): 'same' | 'opposite' | 'undecided' {
  if (status === 'trying') return 'undecided';
  const committed = status === 'committing' || status === 'committed';
  return committed === (verb === 'commit') ? 'same' : 'opposite';
}

export const finalStatus = (s: DecidedStatus): FinalStatus => (s === 'committing' ? 'committed' : 'rolled_back');
export const phaseOf = (s: DecidedStatus): 'confirm' | 'cancel' => (s === 'committing' ? 'confirm' : 'cancel');
export const doneBranchStatus = (s: DecidedStatus): DoneBranchStatus => (s === 'committing' ? 'confirmed' : 'cancelled');
