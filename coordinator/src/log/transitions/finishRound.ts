import { TX_MODES, type TxMode } from '@dtx/protocol';
import type { Knex } from 'knex';
import type { AttemptRecord } from '../attempt-records.js';
import { DECIDED_STATUSES, doneBranchStatus, type DecidedStatus } from '../../core/transitions.js';
import { NotCoalesced, type BatchableWrite } from '../write-batcher.js';
import { markBranchesDone, markBranchesDoneAll } from './markBranchesDone.js';
import { markFinished, markFinishedAll } from './markFinished.js';
import { recordAttempts, trimAttempts } from './recordAttempts.js';

export interface FinishedRound {
  xid: string;
  /** Default `tcc`; a saga's branches end `compensated`. */
  mode?: TxMode;
  from: DecidedStatus;
  /** The branches this round confirmed (or cancelled): all that were not done yet. */
  done: string[];
  /** The calls this round made, for the attempt history. */
  calls: AttemptRecord[];
  now: number;
}

/** The last round of a transaction: its branches done and the transaction finished; false if it was not `from` any more. */
export async function finishRound(trx: Knex.Transaction, r: FinishedRound): Promise<boolean> {
  await recordAttempts(trx, r.calls);
  await trimAttempts(trx, r.calls);
  await markBranchesDone(trx, r.xid, r.done, doneBranchStatus(r.from, r.mode ?? 'tcc'), r.now);
  return markFinished(trx, r.xid, r.from, r.now);
}

/** finishRound coalesced with the batch's other finishes. */
export const finishRoundWrite: BatchableWrite<FinishedRound, boolean> = {
  one: finishRound,
  async many(trx, rounds) {
    const now = Math.max(...rounds.map((r) => r.now));
    const calls = rounds.flatMap((r) => r.calls);
    await recordAttempts(trx, calls);
    await trimAttempts(trx, calls);
    for (const from of DECIDED_STATUSES) for (const mode of TX_MODES) {
      const finishing = rounds.filter((r) => r.from === from && (r.mode ?? 'tcc') === mode);
      if (finishing.length === 0) continue;
      await markBranchesDoneAll(trx, finishing.flatMap((r) => r.done.map((id): [string, string] => [r.xid, id])), doneBranchStatus(from, mode), now);
      if (!(await markFinishedAll(trx, finishing.map((r) => r.xid), from, now))) throw new NotCoalesced('not every transaction finished');
    }
    return rounds.map(() => true);
  },
};
