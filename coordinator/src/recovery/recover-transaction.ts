import type { TxStatus } from '@dtx/protocol';
import { SpanKind, type Context } from '@opentelemetry/api';
import { isFinal } from '../core/transitions.js';
import { readTx, readTxWithBranches } from '../log/queries/readTransaction.js';
import type { TxRecord } from '../log/records.js';
import { claimForRecovery } from '../log/transitions/claimForRecovery.js';
import { markRollingBack } from '../log/transitions/markRollingBack.js';
import { runPhase2, type Phase2Deps } from '../phase2/run-phase2.js';
import { driveSaga } from '../saga/drive-saga.js';
import { checkBack } from './check-back.js';
import { contextOf, inSpan } from '../tracing/trace-context.js';

/**
 * Recovery of one transaction, by the sweeper or a BullMQ worker: claim it in the
 * status it was seen in (a guarded update, so only one process drives it at a
 * time), roll back a `trying` one whose deadline passed, then run a phase-2 round.
 * A claim on a `trying` transaction only entitles recovery to try that rollback: if
 * the initiator decided first, the decider drives it. A `trying` saga before its
 * deadline is different: its forward path is resumed (saga/drive-saga.ts); and a `trying`
 * message past its deadline is checked back (check-back.ts). Returns null when another
 * process holds it or it is no longer due. The recovery is a span in the transaction's trace.
 */
export async function recoverTransaction(deps: Phase2Deps, xid: string): Promise<TxStatus | null> {
  const seen = await deps.log.read((db) => readTx(db, xid));
  if (!seen || isFinal(seen.status)) return null;
  const attributes = { 'dtx.xid': xid, 'dtx.status': seen.status };
  return inSpan('dtx recover', contextOf(seen.traceParent, seen.traceState), attributes, SpanKind.INTERNAL, async (span, ctx) => {
    const status = await recoverClaimed(deps, seen, ctx);
    span.setAttribute('dtx.outcome', status ?? 'not claimed');
    return status;
  });
}

async function recoverClaimed(deps: Phase2Deps, tx: TxRecord, ctx: Context): Promise<TxStatus | null> {
  const { xid, status: seen } = tx;
  const now = deps.now();
  const claimed = await deps.log.write((trx) => claimForRecovery(trx, xid, seen, now, now + deps.leaseMs));
  if (!claimed) return null;
  deps.metrics?.recovered.inc();
  // a saga whose driver died before its deadline: its forward path resumes from the log
  if (seen === 'trying' && tx.mode === 'saga' && now < tx.deadline) {
    const found = await deps.log.read((db) => readTxWithBranches(db, xid));
    return found ? driveSaga(deps, found.tx, found.branches, ctx) : null;
  }
  // a message is never rolled back by its deadline: its producer is asked
  if (seen === 'trying' && tx.mode === 'msg') return checkBack(deps, tx, ctx);
  if (seen === 'trying') {
    const at = deps.now();
    const won = await deps.log.write((trx) => markRollingBack(trx, xid, 'timeout', at, at + deps.leaseMs));
    // lost: whoever decided holds the lease and drives it; recovery meets it again if that one dies
    if (!won) return null;
    deps.metrics?.decisions.inc({ decision: 'rollback', reason: 'timeout', mode: tx.mode });
    deps.logger?.info({ xid, decision: 'rollback', reason: 'timeout', by: 'recovery' }, 'decision');
  }
  const found = await deps.log.read((db) => readTxWithBranches(db, xid));
  if (!found) return null;
  return runPhase2(deps, found.tx, found.branches, ctx);
}
