import { TX_MODES, type BranchStatus, type TxMode, type TxStatus } from '@dtx/protocol';

/** The global transaction's state machine, PROTOCOL.md "States", per mode. */
const TX_NEXT: Record<TxMode, Record<TxStatus, readonly TxStatus[]>> = {
  tcc: {
    trying: ['committing', 'rolling_back'],
    committing: ['committed'],
    rolling_back: ['rolled_back'],
    committed: [],
    rolled_back: [],
  },
  // v1.2: a saga commits itself when its last step is done (no phase 2); it rolls back by compensations
  saga: {
    trying: ['committed', 'rolling_back'],
    committing: [],
    rolling_back: ['rolled_back'],
    committed: [],
    rolled_back: [],
  },
  // v1.2: a message is delivered once committed (by its producer or a check-back); rolled back, nothing is called
  msg: {
    trying: ['committing', 'rolled_back'],
    committing: ['committed'],
    rolling_back: [],
    committed: [],
    rolled_back: [],
  },
};

const BRANCH_NEXT: Record<BranchStatus, readonly BranchStatus[]> = {
  registered: ['tried', 'try_failed', 'confirmed', 'cancelled'],
  tried: ['tried', 'try_failed', 'confirmed', 'cancelled'],
  try_failed: ['tried', 'try_failed', 'cancelled'],
  confirmed: [],
  cancelled: [],
  // a saga step (v1.2): `registered` → `done` | `failed` → `compensated`; a called step whose outcome
  // is unknown (in flight at a rollback or the deadline) is compensated from `registered`
  done: ['compensated'],
  failed: ['compensated'],
  compensated: [],
  // a message step (v1.2): `registered` → `delivered`, never compensated
  delivered: [],
};

const STEP_FROM_REGISTERED: readonly BranchStatus[] = ['done', 'failed', 'compensated', 'delivered'];

export const canTransition = (from: TxStatus, to: TxStatus, mode: TxMode = 'tcc'): boolean => TX_NEXT[mode][from].includes(to);
export const canTransitionBranch = (from: BranchStatus, to: BranchStatus): boolean =>
  BRANCH_NEXT[from].includes(to) || (from === 'registered' && STEP_FROM_REGISTERED.includes(to));

/** The statuses a guarded UPDATE may move from to reach `to`: the log's guards come from these tables. */
export const txSourcesOf = (to: TxStatus, mode: TxMode = 'tcc'): TxStatus[] =>
  (Object.keys(TX_NEXT[mode]) as TxStatus[]).filter((from) => canTransition(from, to, mode));
/** The modes in which `from → to` is legal: a guard that must not move another mode's rows names these. */
export const modesWith = (from: TxStatus, to: TxStatus): TxMode[] => TX_MODES.filter((m) => canTransition(from, to, m));
export const branchSourcesOf = (to: BranchStatus): BranchStatus[] =>
  (Object.keys(BRANCH_NEXT) as BranchStatus[]).filter((from) => canTransitionBranch(from, to));

/** Decided, phase 2 not finished. */
export type DecidedStatus = 'committing' | 'rolling_back';
export type FinalStatus = 'committed' | 'rolled_back';
/** A branch whose phase 2 is done. */
export type DoneBranchStatus = 'confirmed' | 'cancelled' | 'compensated' | 'delivered';

export const DECIDED_STATUSES: readonly DecidedStatus[] = ['committing', 'rolling_back'];
export const FINAL_STATUSES: readonly FinalStatus[] = ['committed', 'rolled_back'];
export const DONE_BRANCH_STATUSES: readonly DoneBranchStatus[] = ['confirmed', 'cancelled', 'compensated', 'delivered'];

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

/** Where an operator's abandon (DTM's forceStop, when allowed) leaves a transaction: on the side it was decided, `trying` counting as a rollback. */
export const abandonedStatus = (s: 'trying' | DecidedStatus): FinalStatus => (s === 'committing' ? 'committed' : 'rolled_back');
export const finalStatus = (s: DecidedStatus): FinalStatus => (s === 'committing' ? 'committed' : 'rolled_back');
/** The phase a decided transaction's rounds call: a saga only ever compensates, a message only ever delivers (its `action`). */
export const phaseOf = (s: DecidedStatus, mode: TxMode = 'tcc'): 'confirm' | 'cancel' | 'compensate' | 'action' =>
  mode === 'saga' ? 'compensate' : mode === 'msg' ? 'action' : s === 'committing' ? 'confirm' : 'cancel';
export const doneBranchStatus = (s: DecidedStatus, mode: TxMode = 'tcc'): DoneBranchStatus =>
  mode === 'saga' ? 'compensated' : mode === 'msg' ? 'delivered' : s === 'committing' ? 'confirmed' : 'cancelled';
