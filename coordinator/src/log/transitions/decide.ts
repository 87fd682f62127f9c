import type { Knex } from 'knex';
import type { TxMode, TxStatus } from '@dtx/protocol';
import { verbAgainst, type DecidedStatus, type Verb } from '../../core/transitions.js';
import type { TryOutcome } from '../../core/try-outcome.js';
import type { AttemptRecord } from '../attempt-records.js';
import { failedTry, readStatus } from '../queries/readStatus.js';
import { NotCoalesced, type BatchableWrite } from '../write-batcher.js';
import { markCommitting, markCommittingAll } from './markCommitting.js';
import { markRollingBack } from './markRollingBack.js';
import { commitMessage } from './commitMessage.js';
import { rollBackMessage } from './rollBackMessage.js';
import { recordAttempts } from './recordAttempts.js';
import { recordDrivenTries, recordDrivenTriesAll, type SucceededTry } from './recordDrivenTries.js';
import { recordCommitReports, recordCommitReportsAll } from './recordTryReport.js';

/**
 * What a commit or rollback met. `won`: this call took the decision (and so must
 * drive phase 2); a commit may turn into a rollback (deadline passed, a try failed).
 * `refused`: decided the other way already (or a commit that had to roll back): the API answers 409.
 */
export type Decision =
  // a message rolled back is final at once (nothing to call); `mode` when the decision had to read it
  | { won: true; decided: Verb; status: DecidedStatus | 'rolled_back'; refused: boolean; reason: string | null; mode?: TxMode }
  | { won: false; status: TxStatus; refused: boolean; reason: string | null; sagaCommit?: true };

const committed = (): Decision => ({ won: true, refused: false, status: 'committing', decided: 'commit', reason: null });

/**
 * Takes the commit or rollback decision inside one log write. The guarded update
 * decides; the loser reads the winner's status. A commit refused because the
 * deadline passed or a try failed rolls the transaction back instead (and is
 * refused, like any commit that meets a rollback). Never throws a refusal: a
 * refused write must not abort its neighbours in the group commit.
 */
export async function decide(
  trx: Knex.Transaction,
  xid: string,
  verb: Verb,
  reason: string | undefined,
  now: number,
  leaseMs: number,
): Promise<Decision> {
  if (verb === 'commit') {
    if (await markCommitting(trx, xid, now, now + leaseMs)) return committed();
  } else if (await markRollingBack(trx, xid, reason ?? 'rollback requested', now, now + leaseMs)) {
    return { won: true, refused: false, status: 'rolling_back', decided: 'rollback', reason: reason ?? 'rollback requested' };
  }
  const { status, reason: decidedReason, mode } = await readStatus(trx, xid);
  // a saga commits itself when its last step is done: a commit request is refused, whatever its status
  if (verb === 'commit' && mode === 'saga') return { won: false, refused: false, status, reason: decidedReason, sagaCommit: true };
  // a message takes neither guarded update above; its own decisions are taken whatever its deadline
  if (mode === 'msg' && status === 'trying') return decideMessage(trx, xid, verb, reason, now, leaseMs);
  const against = verbAgainst(verb, status);
  if (against !== 'undecided') return { won: false, refused: against === 'opposite', status, reason: decidedReason };
  // still trying, yet the commit was refused: the deadline passed or a try failed
  const failed = await failedTry(trx, xid);
  const why = failed ? `try failed: branch ${failed}` : 'timeout';
  const won = await markRollingBack(trx, xid, why, now, now + leaseMs);
  return won
    ? { won, refused: true, status: 'rolling_back', decided: 'rollback', reason: why }
    : { won, refused: true, status: 'rolling_back', reason: why };
}

async function decideMessage(trx: Knex.Transaction, xid: string, verb: Verb, reason: string | undefined, now: number, leaseMs: number): Promise<Decision> {
  const why = reason ?? 'rollback requested';
  const won = verb === 'commit' ? await commitMessage(trx, xid, now, now + leaseMs) : await rollBackMessage(trx, xid, why, now);
  if (won) return { won, refused: false, decided: verb, status: verb === 'commit' ? 'committing' : 'rolled_back', reason: verb === 'commit' ? null : why, mode: 'msg' };
  // lost to a decision taken between the read and this update (a check-back's): the winner's status answers
  const after = await readStatus(trx, xid);
  return { won: false, refused: verbAgainst(verb, after.status) === 'opposite', status: after.status, reason: after.reason };
}

/** Driven mode's rollback: the outcomes of the tries the coordinator called (and their calls, for the history), and the decision, in one write. */
export async function rollBackAfterTries(
  trx: Knex.Transaction,
  xid: string,
  outcomes: readonly TryOutcome[],
  calls: readonly AttemptRecord[],
  reason: string | undefined,
  now: number,
  leaseMs: number,
): Promise<Decision> {
  await recordDrivenTries(trx, xid, outcomes, now);
  await recordAttempts(trx, calls);
  return decide(trx, xid, 'rollback', reason, now, leaseMs);
}

export interface CommitRequest {
  xid: string;
  now: number;
  leaseMs: number;
  /** Driven mode: the tries this coordinator called, all succeeded, recorded with the decision. */
  tries: SucceededTry[];
  /** Driven mode: the try calls made, for the attempt history. */
  calls?: AttemptRecord[];
  /** Initiator mode: the commit's `tryResults`, recorded before the decision as try-result calls would be. */
  reports?: TryOutcome[];
}

/**
 * A commit, coalesced with the batch's other commits: their try results (the driven
 * tries' and the initiators' reports) and their decisions as one statement each. Any
 * commit that does not simply win (decided already, past its deadline, a failed try,
 * an unknown branch) sends the batch back to `decide` one by one.
 */
export const commitWrite: BatchableWrite<CommitRequest, Decision> = {
  async one(trx, c) {
    if (c.tries.length > 0) await recordDrivenTriesAll(trx, c.tries, c.now);
    if (c.calls?.length) await recordAttempts(trx, c.calls);
    if (c.reports?.length) await recordCommitReports(trx, c.xid, c.reports, c.now);
    return decide(trx, c.xid, 'commit', undefined, c.now, c.leaseMs);
  },
  async many(trx, commits) {
    const now = Math.max(...commits.map((c) => c.now));
    const leaseMs = Math.max(...commits.map((c) => c.leaseMs));
    const tries = commits.flatMap((c) => c.tries);
    if (tries.length > 0) await recordDrivenTriesAll(trx, tries, now);
    const calls = commits.flatMap((c) => c.calls ?? []);
    if (calls.length > 0) await recordAttempts(trx, calls);
    const reports = commits.flatMap((c) => (c.reports ?? []).map((r) => ({ ...r, xid: c.xid })));
    if (reports.length > 0 && !(await recordCommitReportsAll(trx, reports, now))) throw new NotCoalesced('a try report is not a new success');
    if (!(await markCommittingAll(trx, commits.map((c) => c.xid), now, now + leaseMs))) throw new NotCoalesced('not every commit won');
    return commits.map(committed);
  },
};
