import { setTimeout as sleep } from 'node:timers/promises';
import type { DtxLogger } from '../logger.js';
import { contextOf } from '../tracing/trace-context.js';
import type { ResolvedOptions } from '../config/options.js';
import { roundLeaseMs } from '../core/round-lease.js';
import { doneBranchStatus, isDecided, isFinal } from '../core/transitions.js';
import { triedStatus } from '../core/try-outcome.js';
import { readTx, readTxWithBranches } from '../log/queries/readTransaction.js';
import type { BranchRecord, TxRecord } from '../log/records.js';
import type { TransactionLog } from '../log/transaction-log.js';
import { commitWrite, rollBackAfterTries } from '../log/transitions/decide.js';
import { holdTries, takeOverTries } from '../log/transitions/holdTries.js';
import type { Metrics } from '../metrics.js';
import type { ParticipantCaller } from '../phase2/participant-caller.js';
import type { Phase2Rounds } from '../phase2/rounds.js';
import { settleWithin } from '../settle-within.js';
import { callTries } from './call-tries.js';
import { drivenView } from './views.js';

/** What driven mode needs: the log, the caller for the tries, and this process's phase-2 rounds. */
export interface DrivenDeps {
  log: TransactionLog;
  caller: ParticipantCaller;
  options: Pick<ResolvedOptions, 'callTimeoutMs' | 'retryBaseMs' | 'retryMaxMs' | 'phase2LeaseMs' | 'allowedOrigins'>;
  now: () => number;
  metrics: Metrics;
  logger?: DtxLogger;
  rounds: Phase2Rounds;
}

/** How long a driver holds the tries of a driven transaction before its first answer: one round of them (core/round-lease.ts). */
export function triesHeldFor(branches: readonly BranchRecord[], order: TxRecord['order'], callTimeoutMs: number): number {
  return roundLeaseMs(branches.map((b) => b.timeoutMs ?? callTimeoutMs), order);
}

/**
 * Driven mode (`"drive": true`): the transaction and its branches are already
 * logged; call the tries, log their results together with the decision in one
 * write, then run phase 2 here. Nothing written is read back on the happy path.
 */
export async function runDriven(deps: DrivenDeps, tx: TxRecord, branches: BranchRecord[], wait: boolean | number) {
  const o = deps.options;
  const outcomes = await callTries(
    {
      caller: deps.caller,
      callTimeoutMs: o.callTimeoutMs,
      retryBaseMs: o.retryBaseMs,
      retryMaxMs: o.retryMaxMs,
      now: deps.now,
      sleep: (ms) => sleep(ms),
      holdUntil: async (until) => void (await deps.log.write((trx) => holdTries(trx, tx.xid, until)).catch(() => false)),
      metrics: deps.metrics,
      logger: deps.logger,
    },
    tx.xid,
    branches,
    tx.order,
    tx.deadline,
    contextOf(tx.traceParent, tx.traceState),
  );
  const calls = outcomes.flatMap((r) => r.calls);
  const failed = outcomes.find((r) => !r.ok);
  const commit = !failed && outcomes.length === branches.length;
  const reason = failed ? `try failed: ${failed.error}` : undefined;
  const now = deps.now();
  const d = commit
    ? await deps.log.apply(commitWrite, { xid: tx.xid, now, leaseMs: o.phase2LeaseMs, tries: outcomes.map((r) => ({ xid: tx.xid, branchId: r.branchId, resultJson: r.resultJson })), calls })
    : await deps.log.write((trx) => rollBackAfterTries(trx, tx.xid, outcomes, calls, reason, now, o.phase2LeaseMs));
  // not won: recovery rolled it back first (deadline); a driven transaction is TCC, so a won decision is never final at once
  if (!d.won || !isDecided(d.status)) return readView(deps.log, tx.xid);
  deps.metrics.decisions.inc({ decision: d.decided, reason: d.decided === 'commit' ? 'requested' : 'try failed', mode: 'tcc' });
  deps.logger?.info({ xid: tx.xid, decision: d.decided, reason: d.reason, by: 'driven' }, 'decision');

  const byId = new Map(outcomes.map((r) => [r.branchId, r]));
  const tried = branches.map((b): BranchRecord => {
    const r = byId.get(b.branchId);
    return r ? { ...b, status: triedStatus(r), tryResultJson: r.resultJson, lastError: r.error } : b;
  });
  const decided: TxRecord = { ...tx, status: d.status, reason: d.reason, updatedAt: now, nextRetryAt: now + o.phase2LeaseMs };
  const running = deps.rounds.drive(decided, tried);
  if (wait === false) return drivenView(decided, tried);
  const status = await settleWithin(running.catch(() => decided.status), typeof wait === 'number' ? wait : Number.POSITIVE_INFINITY, decided.status);
  if (!isFinal(status)) return readView(deps.log, tx.xid);
  const done = doneBranchStatus(d.status);
  const finishedAt = deps.now();
  return drivenView(
    { ...decided, status, finishedAt, nextRetryAt: null },
    tried.map((b) => ({ ...b, status: done, lastError: null })),
  );
}

/**
 * A driven begin sent again (its first answer lost) for a transaction still trying: it
 * drives the tries here once their driver's hold has lapsed (its process died before
 * deciding; a guarded write, so of two repeats one drives), and until then waits for
 * that driver's decision, answering what the first answer would have. A transaction
 * begun without `drive` is its initiator's to decide.
 */
export async function repeatDriven(deps: DrivenDeps, tx: TxRecord, branches: BranchRecord[], wait: boolean | number) {
  if (tx.driveUntil === null) return drivenView(tx, branches);
  const until = deps.now() + (wait === false ? 0 : typeof wait === 'number' ? wait : Math.max(0, tx.deadline - deps.now()) + deps.options.phase2LeaseMs);
  let seen: TxRecord | null = tx;
  while (seen?.status === 'trying' && seen.driveUntil !== null) {
    const now = deps.now();
    const hold = now + triesHeldFor(branches, tx.order, deps.options.callTimeoutMs);
    if (seen.driveUntil <= now && (await deps.log.write((trx) => takeOverTries(trx, tx.xid, now, hold)))) return runDriven(deps, seen, branches, wait);
    if (now >= until) return readView(deps.log, tx.xid);
    await sleep(Math.min(Math.max(seen.driveUntil - now, 20), HOLD_POLL_MS, until - now));
    seen = await deps.log.read((db) => readTx(db, tx.xid));
  }
  // decided by its driver (or rolled back by recovery): wait for the outcome the first answer would have had
  if (seen && !isFinal(seen.status) && deps.now() < until) await deps.rounds.waitForFinal(tx.xid, seen.status, deps.rounds.running(tx.xid), until, true);
  return readView(deps.log, tx.xid);
}

/** How often a repeated driven begin looks again at a transaction whose driver still holds its tries. */
const HOLD_POLL_MS = 250;

async function readView(log: TransactionLog, xid: string) {
  const found = await log.read((db) => readTxWithBranches(db, xid));
  return drivenView(found!.tx, found!.branches);
}
