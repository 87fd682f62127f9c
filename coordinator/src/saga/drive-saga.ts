import type { TxStatus } from '@dtx/protocol';
import type { Context } from '@opentelemetry/api';
import { readTxWithBranches } from '../log/queries/readTransaction.js';
import type { BranchRecord, TxRecord } from '../log/records.js';
import { runPhase2, type Phase2Deps } from '../phase2/run-phase2.js';
import { contextOf } from '../tracing/trace-context.js';
import { runForward, type PreStarted } from './run-forward.js';

/**
 * A trying saga, to its end or its first compensation round: the forward path, then,
 * if it decided `rolling_back` itself, one phase-2 round of compensations (the saga's
 * round plan); later rounds are recovery's, as for any rollback. Run by the request
 * that began it, and by recovery for a saga whose driver died.
 */
export async function driveSaga(deps: Phase2Deps, tx: TxRecord, steps: readonly BranchRecord[], parent?: Context, preStarted?: PreStarted): Promise<TxStatus> {
  const { status, decidedHere } = await runForward(deps, tx, steps, parent ?? contextOf(tx.traceParent, tx.traceState), preStarted);
  // a rollback decided elsewhere (a rollback request, recovery's timeout) is driven by its decider: one round at a time
  if (status !== 'rolling_back' || !decidedHere) return status;
  const found = await deps.log.read((db) => readTxWithBranches(db, tx.xid));
  if (!found) return status;
  return runPhase2(deps, found.tx, found.branches, parent);
}
