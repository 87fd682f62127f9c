import { parseTraceparent, type AttemptView, type BranchView, type TxSummary, type TxView } from '@dtx/protocol';
import type { AttemptRecord } from '../log/attempt-records.js';
import { parseJson, type BranchRecord, type TxRecord } from '../log/records.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function txSummary(t: TxRecord): TxSummary {
  return {
    xid: t.xid,
    mode: t.mode,
    status: t.status,
    stuck: t.stuck,
    reason: t.reason,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
    deadline: iso(t.deadline),
    finishedAt: isoOrNull(t.finishedAt),
    attempts: t.attempts,
    nextRetryAt: isoOrNull(t.nextRetryAt),
    lastError: t.lastError,
    meta: (parseJson(t.metaJson) ?? null) as TxSummary['meta'],
  };
}

/** A branch; a step's action result is its `result`, a TCC branch's try result its `tryResult`. */
export function branchView(b: BranchRecord, mode: TxRecord['mode'] = 'tcc'): BranchView {
  const tryResult = parseJson(b.tryResultJson);
  return {
    branchId: b.branchId,
    action: b.action,
    status: b.status,
    attempts: b.attempts,
    lastError: b.lastError,
    updatedAt: iso(b.updatedAt),
    ...(tryResult !== undefined ? { [mode === 'tcc' ? 'tryResult' : 'result']: tryResult } : {}),
  };
}

export function txView(t: TxRecord, branches: BranchRecord[]): TxView {
  return { ...txSummary(t), branches: branches.map((b) => branchView(b, t.mode)) };
}

/** The trace id a transaction's callbacks carry, null for one begun before trace context was stored. */
export const traceIdOf = (t: TxRecord): string | null => parseTraceparent(t.traceParent)?.traceId ?? null;

export function attemptView(a: AttemptRecord): AttemptView {
  return { branchId: a.branchId, phase: a.phase, attempt: a.attempt, at: iso(a.at), durationMs: Math.round(a.durationMs), httpStatus: a.httpStatus, ok: a.ok, error: a.error };
}

/** Begin's answer. */
export function beginView(t: TxRecord): { xid: string; status: TxRecord['status']; createdAt: string; deadline: string } {
  return { xid: t.xid, status: t.status, createdAt: iso(t.createdAt), deadline: iso(t.deadline) };
}

/** Driven mode's answer: the final (or current) state with each branch's try result. */
export function drivenView(t: TxRecord, branches: BranchRecord[]) {
  return {
    ...beginView(t),
    reason: t.reason,
    branches: branches.map((b) => {
      const tryResult = parseJson(b.tryResultJson);
      return { branchId: b.branchId, status: b.status, ...(tryResult !== undefined ? { tryResult } : {}), ...(b.lastError ? { lastError: b.lastError } : {}) };
    }),
  };
}

/** A saga's or a message's begin answer (v1.2): its current (or final) status and each step's status (and a saga step's result). */
export function stepsView(t: TxRecord, steps: BranchRecord[]) {
  return {
    ...beginView(t),
    mode: t.mode,
    reason: t.reason,
    branches: steps.map((b) => {
      const result = parseJson(b.tryResultJson);
      return { branchId: b.branchId, status: b.status, ...(result !== undefined ? { result } : {}), ...(b.lastError ? { lastError: b.lastError } : {}) };
    }),
  };
}
