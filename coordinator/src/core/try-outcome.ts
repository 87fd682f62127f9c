import type { BranchStatus } from '@dtx/protocol';

/**
 * A try's outcome, as the log records it: an initiator's report, or what the
 * coordinator's own call answered in driven mode.
 */
export interface TryOutcome {
  branchId: string;
  ok: boolean;
  /** JSON text of what try returned; null when it returned nothing or failed. */
  resultJson: string | null;
  /** Why the try failed; null when it succeeded. */
  error: string | null;
}

export const triedStatus = (o: Pick<TryOutcome, 'ok'>): 'tried' | 'try_failed' => (o.ok ? 'tried' : 'try_failed');

/** What the log holds of a branch's try. */
export interface StoredTry {
  status: BranchStatus;
  tryResultJson: string | null;
  lastError: string | null;
}

/** The branch already holds exactly this outcome (so writing it again would change nothing). */
export function holdsOutcome(stored: StoredTry, o: TryOutcome): boolean {
  return stored.status === triedStatus(o) && stored.tryResultJson === o.resultJson && stored.lastError === o.error;
}

// After the decision the log keeps only the branch status and try_result (phase 2 overwrites, then clears,
// last_error), so a report is a repeat when the log is what it would be had it been recorded before: the same
// try_result and a status it leads to (tried → confirmed | cancelled; try_failed → cancelled only). A late first
// report the log cannot tell apart (ok:false for a branch cancelled untried) gets the same 200 and changes nothing.
const REPEAT_OF: Record<'tried' | 'try_failed', readonly BranchStatus[]> = {
  tried: ['tried', 'confirmed', 'cancelled'],
  try_failed: ['try_failed', 'cancelled'],
};

/** A report the log already reflects: answered like the first one, written nowhere. */
export function isRepeatReport(stored: Pick<StoredTry, 'status' | 'tryResultJson'>, o: TryOutcome): boolean {
  return REPEAT_OF[triedStatus(o)].includes(stored.status) && stored.tryResultJson === o.resultJson;
}
