import type { CallPhase } from '@dtx/protocol';
import type { Binding } from './raw-statements.js';
import { clipError } from './records.js';

/** One participant call, as the attempt history keeps it (PROTOCOL.md v1.1 "Attempt history"). */
export interface AttemptRecord {
  xid: string;
  branchId: string;
  phase: CallPhase;
  /** The `dtx-attempt` the call carried. */
  attempt: number;
  /** When the call was sent, epoch ms. */
  at: number;
  durationMs: number;
  /** null when no answer came. */
  httpStatus: number | null;
  ok: boolean;
  error: string | null;
}

export const ATTEMPT_TABLE = 'dtx_attempt';

/**
 * Calls kept per branch and phase besides the first: a branch failing for days keeps
 * its first call and its latest ones, so its history stays a few dozen rows.
 */
export const ATTEMPTS_KEPT_LATEST = 50;

type Row = Record<string, unknown>;

/** The columns attemptToRow fills (id is the database's), in the order the raw INSERT lists them. */
export const ATTEMPT_COLUMNS = ['xid', 'branch_id', 'phase', 'attempt', 'called_at', 'duration_ms', 'http_status', 'ok', 'error'] as const;
export type AttemptRow = Record<(typeof ATTEMPT_COLUMNS)[number], Binding>;

export function attemptToRow(a: AttemptRecord): AttemptRow {
  return {
    xid: a.xid,
    branch_id: a.branchId,
    phase: a.phase,
    attempt: a.attempt,
    called_at: a.at,
    duration_ms: Math.max(0, Math.round(a.durationMs)),
    http_status: a.httpStatus,
    ok: a.ok ? 1 : 0,
    error: clipError(a.error),
  };
}

export function attemptFromRow(r: Row): AttemptRecord {
  return {
    xid: String(r.xid),
    branchId: String(r.branch_id),
    phase: r.phase as CallPhase,
    attempt: Number(r.attempt),
    at: Number(r.called_at),
    durationMs: Number(r.duration_ms),
    httpStatus: r.http_status === null || r.http_status === undefined ? null : Number(r.http_status),
    ok: Number(r.ok) === 1,
    error: r.error === null || r.error === undefined ? null : String(r.error),
  };
}
