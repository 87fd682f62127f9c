import { storableText, TEXT_LIMITS, type BranchStatus, type Json, type TxMode, type TxStatus } from '@dtx/protocol';
import type { Binding } from './raw-statements.js';

export type BranchOrder = 'parallel' | 'sequential';

export interface TxRecord {
  xid: string;
  /** `tcc`; `saga` (v1.2): steps run by the coordinator, compensated on rollback; `msg` (v1.2): steps delivered once committed. */
  mode: TxMode;
  status: TxStatus;
  stuck: boolean;
  reason: string | null;
  timeoutMs: number;
  order: BranchOrder;
  attempts: number;
  nextRetryAt: number | null;
  lastError: string | null;
  /** As stored (canonical JSON text), so "same settings" is a string comparison. */
  metaJson: string | null;
  createdAt: number;
  updatedAt: number;
  deadline: number;
  finishedAt: number | null;
  /** The W3C `traceparent` its callbacks continue (PROTOCOL.md v1.1 "Trace context"). */
  traceParent: string | null;
  traceState: string | null;
  /** Driven mode: the process calling the tries holds them until then (a repeated driven begin waits it out). */
  driveUntil: number | null;
  /** A message (v1.2): where recovery asks whether its producer's local transaction committed; null otherwise. */
  checkUrl: string | null;
  /** Begun through the DTM-compatible surface: its DTM options (dtm/dialect.ts), so every caller speaks DTM's dialect to its branches. */
  dtmJson: string | null;
}

export interface BranchRecord {
  xid: string;
  branchId: string;
  seq: number;
  action: string | null;
  tryUrl: string | null;
  confirmUrl: string;
  cancelUrl: string;
  payloadJson: string | null;
  tryResultJson: string | null;
  timeoutMs: number | null;
  status: BranchStatus;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  /** Saga step: the steps it runs after (effective: array order made explicit); null for a TCC branch. */
  afterIds: string[] | null;
  /** Saga step: when its action was first called (logged before the call); null while never called. */
  calledAt: number | null;
}

/** A transaction as begin logs it: trying, nothing attempted; recovery rolls it back if it is still trying at its deadline. */
export function newTxRecord(t: {
  xid: string;
  timeoutMs: number;
  order: BranchOrder;
  metaJson: string | null;
  now: number;
  trace?: { traceParent: string; traceState: string | null };
  driveUntil?: number;
  mode?: TxMode;
  /** A saga's forward path is held by its driver until then (its next_retry_at); default the deadline. */
  heldUntil?: number;
  checkUrl?: string;
  dtmJson?: string | null;
}): TxRecord {
  const deadline = t.now + t.timeoutMs;
  return {
    xid: t.xid,
    mode: t.mode ?? 'tcc',
    status: 'trying',
    stuck: false,
    reason: null,
    timeoutMs: t.timeoutMs,
    order: t.order,
    attempts: 0,
    nextRetryAt: t.heldUntil ?? deadline,
    lastError: null,
    metaJson: t.metaJson,
    createdAt: t.now,
    updatedAt: t.now,
    deadline,
    finishedAt: null,
    traceParent: t.trace?.traceParent ?? null,
    traceState: t.trace?.traceState ?? null,
    driveUntil: t.driveUntil ?? null,
    checkUrl: t.checkUrl ?? null,
    dtmJson: t.dtmJson ?? null,
  };
}

export type NewBranch = Pick<BranchRecord, 'xid' | 'branchId' | 'seq' | 'action' | 'tryUrl' | 'confirmUrl' | 'cancelUrl' | 'payloadJson' | 'timeoutMs'> &
  Partial<Pick<BranchRecord, 'afterIds'>>;

/** A branch as registration logs it: registered, not tried. */
export function newBranchRecord(b: NewBranch, now: number): BranchRecord {
  return { ...b, afterIds: b.afterIds ?? null, calledAt: null, tryResultJson: null, status: 'registered', attempts: 0, lastError: null, createdAt: now, updatedAt: now };
}

export const TX_TABLE = 'dtx_global_tx';
export const BRANCH_TABLE = 'dtx_branch';

/** The columns txToRow and branchToRow fill, in the order the raw INSERTs list them. */
export const TX_COLUMNS = [
  'xid', 'status', 'stuck', 'reason', 'timeout_ms', 'branch_order', 'attempts', 'next_retry_at',
  'last_error', 'meta', 'created_at', 'updated_at', 'deadline', 'finished_at', 'trace_parent', 'trace_state', 'drive_until', 'tx_mode', 'check_url', 'dtm_options',
] as const;
export const BRANCH_COLUMNS = [
  'xid', 'branch_id', 'seq', 'action', 'try_url', 'confirm_url', 'cancel_url', 'payload',
  'try_result', 'timeout_ms', 'status', 'attempts', 'last_error', 'created_at', 'updated_at', 'after_ids', 'called_at',
] as const;
/** A row as written: every column, and only bindable values (flags as 0/1). */
export type TxRow = Record<(typeof TX_COLUMNS)[number], Binding>;
export type BranchRow = Record<(typeof BRANCH_COLUMNS)[number], Binding>;

type Row = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function txFromRow(r: Row): TxRecord {
  return {
    xid: String(r.xid),
    mode: (r.tx_mode ?? 'tcc') as TxMode,
    status: r.status as TxStatus,
    stuck: num(r.stuck) === 1,
    reason: strOrNull(r.reason),
    timeoutMs: num(r.timeout_ms),
    order: r.branch_order as BranchOrder,
    attempts: num(r.attempts),
    nextRetryAt: numOrNull(r.next_retry_at),
    lastError: strOrNull(r.last_error),
    metaJson: strOrNull(r.meta),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    deadline: num(r.deadline),
    finishedAt: numOrNull(r.finished_at),
    traceParent: strOrNull(r.trace_parent),
    traceState: strOrNull(r.trace_state),
    driveUntil: numOrNull(r.drive_until),
    checkUrl: strOrNull(r.check_url),
    dtmJson: strOrNull(r.dtm_options),
  };
}

export function txToRow(t: TxRecord): TxRow {
  return {
    xid: t.xid,
    status: t.status,
    stuck: t.stuck ? 1 : 0,
    reason: t.reason,
    timeout_ms: t.timeoutMs,
    branch_order: t.order,
    attempts: t.attempts,
    next_retry_at: t.nextRetryAt,
    last_error: t.lastError,
    meta: t.metaJson,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
    deadline: t.deadline,
    finished_at: t.finishedAt,
    trace_parent: t.traceParent,
    trace_state: t.traceState,
    drive_until: t.driveUntil,
    tx_mode: t.mode,
    check_url: t.checkUrl,
    dtm_options: t.dtmJson,
  };
}

export function branchFromRow(r: Row): BranchRecord {
  return {
    xid: String(r.xid),
    branchId: String(r.branch_id),
    seq: num(r.seq),
    action: strOrNull(r.action),
    tryUrl: strOrNull(r.try_url),
    confirmUrl: String(r.confirm_url),
    cancelUrl: String(r.cancel_url),
    payloadJson: strOrNull(r.payload),
    tryResultJson: strOrNull(r.try_result),
    timeoutMs: numOrNull(r.timeout_ms),
    status: r.status as BranchStatus,
    attempts: num(r.attempts),
    lastError: strOrNull(r.last_error),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    afterIds: r.after_ids === null || r.after_ids === undefined ? null : (JSON.parse(String(r.after_ids)) as string[]),
    calledAt: numOrNull(r.called_at),
  };
}

export function branchToRow(b: BranchRecord): BranchRow {
  return {
    xid: b.xid,
    branch_id: b.branchId,
    seq: b.seq,
    action: b.action,
    try_url: b.tryUrl,
    confirm_url: b.confirmUrl,
    cancel_url: b.cancelUrl,
    payload: b.payloadJson,
    try_result: b.tryResultJson,
    timeout_ms: b.timeoutMs,
    status: b.status,
    attempts: b.attempts,
    last_error: b.lastError,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
    after_ids: b.afterIds === null ? null : JSON.stringify(b.afterIds),
    called_at: b.calledAt,
  };
}

/** Error text cut to what `last_error` keeps, storable. */
export const clipError = (text: string | null): string | null => (text === null ? null : storableText(text.slice(0, TEXT_LIMITS.errorChars)));
/** A rollback reason cut to what `reason` keeps, storable. */
export const clipReason = (text: string): string => storableText(text.slice(0, TEXT_LIMITS.reasonChars));

export const parseJson = (text: string | null): Json | undefined => (text === null ? undefined : (JSON.parse(text) as Json));
