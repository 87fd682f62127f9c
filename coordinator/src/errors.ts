import { toError, type ErrorCode, type TxStatus } from '@dtx/protocol';

/** Every error the coordinator answers with has a stable code; HTTP mapping lives in http/errors.ts. */
export class DtxError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface Issue {
  path: string;
  message: string;
}

export class InvalidRequestError extends DtxError {
  constructor(message: string, issues: Issue[] = []) {
    super('INVALID_REQUEST', message, { issues });
  }
}
export class UnauthorizedError extends DtxError {
  constructor() {
    super('UNAUTHORIZED', 'a valid bearer token is required');
  }
}
export class UrlNotAllowedError extends DtxError {
  constructor(url: string) {
    super('URL_NOT_ALLOWED', `participant URL ${url} is outside the allowed origins`, { url });
  }
}
export class TxNotFoundError extends DtxError {
  constructor(xid: string) {
    super('TX_NOT_FOUND', `transaction ${xid} not found`, { xid });
  }
}
export class BranchNotFoundError extends DtxError {
  constructor(xid: string, branchId: string) {
    super('BRANCH_NOT_FOUND', `branch ${branchId} of transaction ${xid} not found`, { xid, branchId });
  }
}
export class TxExistsError extends DtxError {
  constructor(xid: string, status: TxStatus, why: string) {
    super('TX_EXISTS', `transaction ${xid} exists (${why})`, { xid, status });
  }
}
export class TxNotTryingError extends DtxError {
  constructor(xid: string, status: TxStatus) {
    super('TX_NOT_TRYING', `transaction ${xid} is ${status}`, { xid, status });
  }
}
export class BranchConflictError extends DtxError {
  constructor(xid: string, branchId: string) {
    super('BRANCH_CONFLICT', `branch ${branchId} of transaction ${xid} is registered with other URLs or payload`, {
      xid,
      branchId,
    });
  }
}
export class TxRolledBackError extends DtxError {
  constructor(xid: string, status: TxStatus, reason: string | null) {
    super('TX_ROLLED_BACK', `transaction ${xid} is ${status}${reason ? `: ${reason}` : ''}`, { xid, status, reason });
  }
}
export class TxCommittedError extends DtxError {
  constructor(xid: string, status: TxStatus) {
    super('TX_COMMITTED', `transaction ${xid} is ${status}`, { xid, status });
  }
}
export class PayloadTooLargeError extends DtxError {
  constructor(what: string, limitBytes: number) {
    super('PAYLOAD_TOO_LARGE', `${what} is over ${limitBytes} bytes`, { limitBytes });
  }
}
export class StoreUnavailableError extends DtxError {
  constructor(cause: unknown) {
    // the database's own words (SQL text included) stay in the log line (http/errors.ts), out of the answer
    super('STORE_UNAVAILABLE', 'the transaction log cannot be written; retry after Retry-After', undefined, { cause: toError(cause) });
  }
}
/** A value the log's database refused as data (not as a conflict or an outage): the request's fault, never retried. */
export class UnstorableValueError extends DtxError {
  constructor(cause: unknown) {
    const issues: Issue[] = [{ path: '/body', message: 'a value the database cannot store' }];
    super('INVALID_REQUEST', 'the transaction log cannot store a value of this request', { issues }, { cause: toError(cause) });
  }
}
/** A request that reached a coordinator already closing: the protocol's one 503, so clients retry after Retry-After. */
export class ShuttingDownError extends DtxError {
  constructor() {
    super('STORE_UNAVAILABLE', 'the coordinator is shutting down; retry the request');
  }
}

/** Thrown at start for a bad environment variable or option. */
export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export { toError };
