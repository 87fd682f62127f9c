import type { ErrorCode } from '@dtx/protocol';

/** An error answer of the coordinator API, with the protocol's stable `code`. */
export class CoordinatorError extends Error {
  constructor(
    readonly code: ErrorCode | string,
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidRequestError extends CoordinatorError {}
export class UnauthorizedError extends CoordinatorError {}
export class UrlNotAllowedError extends CoordinatorError {}
export class TxNotFoundError extends CoordinatorError {}
export class BranchNotFoundError extends CoordinatorError {}
export class TxExistsError extends CoordinatorError {}
/**
 * Registration (or a try result) after the decision was taken, typically because the
 * deadline passed and recovery rolled the transaction back. `details.status` says where it went.
 */
export class TxNotTryingError extends CoordinatorError {
  get txStatus(): string | undefined {
    return typeof this.details.status === 'string' ? this.details.status : undefined;
  }
}
export class BranchConflictError extends CoordinatorError {}
export class TxRolledBackError extends CoordinatorError {}
export class TxCommittedError extends CoordinatorError {}
export class PayloadTooLargeError extends CoordinatorError {}
export class UnsupportedMediaTypeError extends CoordinatorError {}
export class StoreUnavailableError extends CoordinatorError {
  retryAfterMs: number | null = null;
}

const BY_CODE: Record<string, typeof CoordinatorError> = {
  INVALID_REQUEST: InvalidRequestError,
  UNAUTHORIZED: UnauthorizedError,
  URL_NOT_ALLOWED: UrlNotAllowedError,
  TX_NOT_FOUND: TxNotFoundError,
  BRANCH_NOT_FOUND: BranchNotFoundError,
  TX_EXISTS: TxExistsError,
  TX_NOT_TRYING: TxNotTryingError,
  BRANCH_CONFLICT: BranchConflictError,
  TX_ROLLED_BACK: TxRolledBackError,
  TX_COMMITTED: TxCommittedError,
  PAYLOAD_TOO_LARGE: PayloadTooLargeError,
  UNSUPPORTED_MEDIA_TYPE: UnsupportedMediaTypeError,
  STORE_UNAVAILABLE: StoreUnavailableError,
};

/** The typed error for an error answer; unknown codes stay a plain CoordinatorError. */
export function coordinatorError(status: number, body: unknown, retryAfterMs: number | null): CoordinatorError {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  const code = typeof e?.code === 'string' ? e.code : `HTTP_${status}`;
  const message = typeof e?.message === 'string' ? e.message : `coordinator answered HTTP ${status}`;
  const details = typeof e?.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>) : {};
  const Cls = BY_CODE[code] ?? CoordinatorError;
  const err = new Cls(code, status, `${code}: ${message}`, details);
  if (err instanceof StoreUnavailableError) err.retryAfterMs = retryAfterMs;
  return err;
}

/** The coordinator could not be reached or did not answer in time. */
export class CoordinatorUnreachableError extends Error {
  readonly code = 'COORDINATOR_UNREACHABLE';
  constructor(url: string, options: { cause: unknown }) {
    super(`coordinator request to ${url} failed: ${(options.cause as Error)?.message ?? String(options.cause)}`, options);
    this.name = new.target.name;
  }
}

/** A try the participant refused (409/422 or another 4xx): the transaction rolls back. */
export class TryRejectedError extends Error {
  readonly code = 'TRY_REJECTED';
  constructor(
    readonly action: string,
    readonly branchId: string,
    readonly status: number,
    /** The participant's error code, e.g. BUSINESS_REJECTED or TRY_SUSPENDED. */
    readonly participantCode: string | undefined,
    message: string,
  ) {
    super(`try ${action} (${branchId}) rejected with HTTP ${status}: ${message}`);
    this.name = new.target.name;
  }
}

/** A try that kept failing transiently until the transaction's deadline. */
export class TryDeadlineError extends Error {
  readonly code = 'TRY_DEADLINE';
  constructor(
    readonly action: string,
    readonly branchId: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(`try ${action} (${branchId}) did not succeed before the deadline after ${attempts} attempt(s)`, options);
    this.name = new.target.name;
  }
}

/** Where a transaction stands when the client gave up on the coordinator at its deadline. */
export type UnfinishedState =
  /** Begun or not (the begin never got an answer); if it was logged, it is rolled back at its deadline. */
  | 'not_begun'
  /** Still trying, with no decision sent: the coordinator rolls it back at its deadline. */
  | 'trying'
  /** A commit was sent and never answered: committed if one attempt reached the coordinator, else rolled back at its deadline. */
  | 'unknown'
  /** A saga's begin was never answered: if the coordinator logged it, it runs to its end without this client; else nothing ran. */
  | 'saga_submitted'
  /** A message's local transaction committed and its commit was never answered: the check-back delivers it. */
  | 'msg_committed_locally';

const UNFINISHED: Record<UnfinishedState, string> = {
  not_begun: 'not begun, or begun and left trying: if the coordinator logged it, it is rolled back at its deadline',
  trying: 'still trying: it will be rolled back at its deadline',
  unknown: 'commit unanswered: committed if the coordinator took it, else rolled back at its deadline',
  saga_submitted: 'saga begin unanswered: if the coordinator logged it, it runs to its end without this client, else none of its steps ran',
  msg_committed_locally: 'committed locally, commit unanswered: the coordinator delivers the message after checking back at its deadline',
};

/**
 * The coordinator stayed unreachable (or its store unavailable) until the transaction's
 * deadline, so transaction() gave up; `state` says what happens to it without this client.
 */
export class TransactionUnfinishedError extends Error {
  readonly code = 'TX_UNFINISHED';
  constructor(
    readonly xid: string,
    readonly state: UnfinishedState,
    options: { cause: unknown },
  ) {
    super(`transaction ${xid} ${UNFINISHED[state]} (gave up on the coordinator: ${(options.cause as Error)?.message ?? String(options.cause)})`, options);
    this.name = new.target.name;
  }
}
