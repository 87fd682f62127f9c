import { setTimeout as sleep } from 'node:timers/promises';
import { doneBranchStatus, isFinal } from '../core/transitions.js';
import { readTxWithBranches } from '../log/queries/readTransaction.js';
import type { BranchRecord, TxRecord } from '../log/records.js';
import { recordTryResults } from '../log/transitions/recordTryResults.js';
import { callTries } from './call-tries.js';
import type { CoordinatorService } from './coordinator-service.js';
import { commitDecision, decide } from './decide.js';
import { drivenView } from './views.js';
import { settleWithin } from '../settle-within.js';

/**
 * Driven mode (`"drive": true`): the transaction and its branches are already
 * logged; call the tries, log their results together with the decision in one
 * write, then run phase 2 here. Nothing written is read back on the happy path.
 */
export async function runDriven(service: CoordinatorService, tx: TxRecord, branches: BranchRecord[], wait: boolean | number) {
  const o = service.options;
  const outcomes = await callTries(
    { caller: service.caller, callTimeoutMs: o.callTimeoutMs, retryBaseMs: o.retryBaseMs, retryMaxMs: o.retryMaxMs, now: service.now, sleep: (ms) => sleep(ms), metrics: service.metrics },
    tx.xid,
    branches,
    tx.order,
    tx.deadline,
  );
  const failed = outcomes.find((r) => !r.ok);
  const verb = failed || outcomes.length < branches.length ? 'rollback' : 'commit';
  const reason = failed ? `try failed: ${failed.error}` : undefined;
  const now = service.now();
  const d =
    verb === 'commit'
      ? await service.log.apply(commitDecision, { xid: tx.xid, now, leaseMs: o.phase2LeaseMs, tries: outcomes.map((r) => ({ xid: tx.xid, branchId: r.branchId, resultJson: r.resultJson })) })
      : await service.log.write(async (trx) => {
          await recordTryResults(trx, tx.xid, outcomes, now);
          return decide(trx, tx.xid, verb, reason, now, o.phase2LeaseMs);
        });
  if (!d.won) return readView(service, tx.xid); // recovery rolled it back first (deadline)
  service.metrics.decisions.inc({ decision: d.decided!, reason: d.decided === 'commit' ? 'requested' : 'try failed' });

  const byId = new Map(outcomes.map((r) => [r.branchId, r]));
  const tried = branches.map((b): BranchRecord => {
    const r = byId.get(b.branchId);
    return r ? { ...b, status: r.ok ? 'tried' : 'try_failed', tryResultJson: r.resultJson, lastError: r.error ?? null } : b;
  });
  const decided: TxRecord = { ...tx, status: d.status, reason: d.reason ?? null, updatedAt: now, nextRetryAt: now + o.phase2LeaseMs };
  const running = service.track(tx.xid, service.runPhase2Known(decided, tried));
  if (wait === false) return drivenView(decided, tried);
  const status = await settleWithin(running.catch(() => decided.status), typeof wait === 'number' ? wait : Number.POSITIVE_INFINITY, decided.status);
  if (!isFinal(status)) return readView(service, tx.xid);
  const done = doneBranchStatus(decided.status as 'committing' | 'rolling_back');
  const finishedAt = service.now();
  return drivenView(
    { ...decided, status, finishedAt, nextRetryAt: null },
    tried.map((b) => ({ ...b, status: done, lastError: null })),
  );
}

async function readView(service: CoordinatorService, xid: string) {
  const found = await service.log.read((db) => readTxWithBranches(db, xid));
  return drivenView(found!.tx, found!.branches);
}
