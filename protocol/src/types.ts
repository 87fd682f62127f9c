/** Types of the wire protocol, PROTOCOL.md v1. */

export type TxStatus = 'trying' | 'committing' | 'rolling_back' | 'committed' | 'rolled_back';
export type BranchStatus = 'registered' | 'tried' | 'try_failed' | 'confirmed' | 'cancelled' | SagaStepStatus | MsgStepStatus;
/** A saga step's statuses (v1.2): `registered` → `done` | `failed` → `compensated`. */
export type SagaStepStatus = 'done' | 'failed' | 'compensated';
/** A message step's statuses (v1.2): `registered` → `delivered`. */
export type MsgStepStatus = 'delivered';
export type Phase = 'try' | 'confirm' | 'cancel';
/** A saga's callback phases (v1.2); a message's steps are delivered with `action` too. */
export type SagaPhase = 'action' | 'compensate';
/** A message's check-back to its producer (v1.2). */
export type CheckPhase = 'check';
/** Every phase a callback (and the attempt history) may name. */
export type CallPhase = Phase | SagaPhase | CheckPhase;
/** A transaction's mode (v1.2). */
export type TxMode = 'tcc' | 'saga' | 'msg';
export const TX_MODES: readonly TxMode[] = ['tcc', 'saga', 'msg'];

/**
 * The branch id of a message's own rows (v1.2): the producer's barrier keeps `(xid, "msg", op)`,
 * and a check-back carries it in `dtx-branch-id` and in the attempt history.
 */
export const MSG_BRANCH_ID = 'msg';

export const TX_STATUSES: readonly TxStatus[] = ['trying', 'committing', 'rolling_back', 'committed', 'rolled_back'];
export const PHASES: readonly Phase[] = ['try', 'confirm', 'cancel'];
export const CALL_PHASES: readonly CallPhase[] = [...PHASES, 'action', 'compensate', 'check'];

/**
 * Longest texts the protocol carries: an error (a failed try's, a branch's or a
 * transaction's last error) and a rollback reason. Under the log's columns,
 * `last_error VARCHAR(2048)` and `reason VARCHAR(1024)`.
 */
export const TEXT_LIMITS = { errorChars: 2000, reasonChars: 1000 } as const;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Body of every participant callback. */
export interface CallbackBody {
  xid: string;
  branchId: string;
  /** A branch's phase; a check-back has its own body (CheckBody). */
  phase: Phase | SagaPhase;
  /** The action the branch was registered with (v1.1), so the body cannot be replayed to another one. */
  action?: string;
  payload: Json | undefined;
  tryResult?: Json | undefined;
  /** A saga action (v1.2): what the finished earlier steps' actions answered, by branchId. */
  results?: Record<string, Json>;
  /** A saga compensation (v1.2): what this step's action answered. */
  result?: Json;
}

/** Body of a message's check-back (v1.2): did the producer's local transaction commit? */
export interface CheckBody {
  xid: string;
  phase: CheckPhase;
}

export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'URL_NOT_ALLOWED'
  | 'TX_NOT_FOUND'
  | 'BRANCH_NOT_FOUND'
  | 'TX_EXISTS'
  | 'TX_NOT_TRYING'
  | 'BRANCH_CONFLICT'
  | 'TX_ROLLED_BACK'
  | 'TX_COMMITTED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'STORE_UNAVAILABLE'
  | 'NOT_FOUND'
  | 'INTERNAL';

export interface ErrorBody {
  error: { code: ErrorCode | string; message: string; details?: Record<string, unknown> };
}

export interface BeginRequest {
  xid?: string;
  timeoutMs?: number;
  meta?: Json;
  branches?: RegisterBranchRequest[];
  drive?: boolean;
  order?: 'parallel' | 'sequential';
  wait?: boolean | number;
  /** v1.2: `saga` runs `steps`, `msg` delivers them once committed (default `tcc`). */
  mode?: TxMode;
  steps?: SagaStepRequest[];
  /** v1.2, a message: where recovery asks whether the producer's local transaction committed. */
  checkUrl?: string;
}

/** One step of a saga's begin (PROTOCOL.md v1.2 "Saga"); a message's step has no compensateUrl. */
export interface SagaStepRequest {
  branchId: string;
  action?: string;
  actionUrl: string;
  compensateUrl?: string;
  payload?: Json;
  /** Steps that must be done first; absent: the step before it in the array. */
  after?: string[];
  timeoutMs?: number;
}

/** What a try returned, as an initiator reports it (try-result, or a commit's `tryResults`, v1.1). */
export type TryReportBody = { ok: true; result?: Json } | { ok: false; error?: string };

/** Body of commit and rollback; `tryResults` on commit only (v1.1 "Shorter initiator flow"). */
export interface DecideRequest {
  wait?: boolean | number;
  reason?: string;
  tryResults?: Record<string, TryReportBody>;
}

export interface RegisterBranchRequest {
  branchId: string;
  action?: string;
  tryUrl?: string;
  confirmUrl: string;
  cancelUrl: string;
  payload?: Json;
  timeoutMs?: number;
}

export interface BranchView {
  branchId: string;
  action: string | null;
  status: BranchStatus;
  attempts: number;
  lastError: string | null;
  updatedAt: string;
  tryResult?: Json;
  /** A saga step's action result. */
  result?: Json;
}

export interface TxSummary {
  xid: string;
  mode: TxMode;
  status: TxStatus;
  stuck: boolean;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  deadline: string;
  finishedAt: string | null;
  attempts: number;
  nextRetryAt: string | null;
  lastError: string | null;
  meta: Json | null;
}

export interface TxView extends TxSummary {
  branches: BranchView[];
}

/** One participant call the coordinator made (PROTOCOL.md v1.1 "Attempt history"). */
export interface AttemptView {
  branchId: string;
  phase: CallPhase;
  /** The `dtx-attempt` it carried. */
  attempt: number;
  at: string;
  durationMs: number;
  /** null when no answer came (timeout, refused connection, circuit open). */
  httpStatus: number | null;
  ok: boolean;
  error: string | null;
}
