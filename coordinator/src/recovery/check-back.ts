import { MSG_BRANCH_ID, type TxStatus } from '@dtx/protocol';
import type { Context } from '@opentelemetry/api';
import { planAfterRound } from '../core/phase2-outcome.js';
import { roundLeaseMs } from '../core/round-lease.js';
import { readTxWithBranches } from '../log/queries/readTransaction.js';
import { readStatus } from '../log/queries/readStatus.js';
import type { TxRecord } from '../log/records.js';
import { extendLease } from '../log/transitions/extendLease.js';
import { recordCheckBack, type CheckOutcome } from '../log/transitions/recordCheckBack.js';
import { runPhase2, type Phase2Deps } from '../phase2/run-phase2.js';
import { tracedCall } from '../phase2/traced-call.js';
import { parseDtmOptions } from '../dtm/dialect.js';

/** The reason a message rolled back by its check-back carries. */
export const CHECK_REFUSED_REASON = 'check-back: the producer’s local transaction did not commit';

/**
 * A message still trying at its deadline (PROTOCOL.md v1.2 "Message"), claimed by
 * recovery: asks its producer once, `POST checkUrl` with `{ xid, phase: "check" }`.
 * 200: decided `committing` and delivered here at once (a phase-2 round); 409:
 * `rolled_back`, no step called; anything else: asked again after a backoff (the
 * deadline does not end it), flagged stuck past stuckAfterAttempts. The call and its
 * outcome are one write. Answers the status it left the message in.
 */
export async function checkBack(deps: Phase2Deps, tx: TxRecord, parent: Context): Promise<TxStatus> {
  const { xid } = tx;
  if (tx.checkUrl === null) throw new Error(`message ${xid} has no checkUrl`);
  const timeoutMs = deps.options.callTimeoutMs;
  const leaseNeeded = roundLeaseMs([timeoutMs], 'parallel');
  if (leaseNeeded > deps.leaseMs && !(await deps.log.write((trx) => extendLease(trx, xid, 'trying', deps.now() + leaseNeeded)))) return tx.status;

  // a message begun through the DTM surface is asked DTM's way: GET query_prepared (dtm/branch-call.ts)
  const request = { url: tx.checkUrl, attempt: tx.attempts + 1, timeoutMs, body: { xid, phase: 'check' as const }, dtm: parseDtmOptions(tx.dtmJson) };
  const { answer, record } = await tracedCall(deps, request, null, parent);
  deps.metrics?.phase2Calls.inc({ phase: 'check', outcome: answer.kind });
  const now = deps.now();
  const error = `check: ${answer.error ?? 'failed'}${answer.status === null ? ` (POST ${tx.checkUrl})` : ''}`;
  const policy = { baseMs: deps.options.retryBaseMs, maxMs: deps.options.retryMaxMs, stuckAfterAttempts: deps.options.stuckAfterAttempts };
  const outcome: CheckOutcome =
    answer.kind === 'ok'
      ? { kind: 'commit', leaseUntil: now + deps.leaseMs }
      : answer.kind === 'rejected'
        ? { kind: 'rollback', reason: CHECK_REFUSED_REASON }
        : { kind: 'ask again', plan: planAfterRound([{ branchId: MSG_BRANCH_ID, ok: false, error, retryAfterMs: answer.retryAfterMs }], tx.attempts, now, policy) };
  const won = await deps.log.write((trx) => recordCheckBack(trx, { xid, call: record, outcome, now }));
  // lost: the producer's commit or rollback came first, and its decider drives what follows
  if (!won) return (await deps.log.read((db) => readStatus(db, xid))).status;
  if (outcome.kind === 'ask again') return 'trying';
  const decision = outcome.kind === 'commit' ? 'commit' : 'rollback';
  deps.metrics?.decisions.inc({ decision, reason: 'check-back', mode: 'msg' });
  deps.logger?.info({ xid, decision, reason: 'check-back', by: 'recovery' }, 'decision');
  if (outcome.kind === 'rollback') {
    deps.metrics?.finished.inc({ status: 'rolled_back' });
    return 'rolled_back';
  }
  const found = await deps.log.read((db) => readTxWithBranches(db, xid));
  return found ? runPhase2(deps, found.tx, found.branches, parent) : 'committing';
}
