import type { SignatureCheck } from '@dtx/protocol';

/**
 * Errors of the participant side. Each has a stable `code`; the callback plugin maps
 * them to HTTP in one place (http/error-reply.ts).
 */
export class DtxSdkError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Thrown by a handler to refuse the try for a business reason (insufficient funds,
 * unknown account). The plugin answers 409, so the transaction rolls back without retry.
 */
export class TccRejectedError extends DtxSdkError {
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super('BUSINESS_REJECTED', message, options);
  }
}

/**
 * A try that arrived after its branch's cancel, or a saga action after its compensate
 * (anti-suspension): refused with 409. One code for both, as the protocol treats an
 * action like a try.
 */
export class TrySuspendedError extends DtxSdkError {
  constructor(xid: string, branchId: string, phase: 'try' | 'action' = 'try') {
    super('TRY_SUSPENDED', `${phase} of ${xid}/${branchId} arrived after its ${phase === 'try' ? 'cancel' : 'compensate'} and is refused`);
  }
}

/** Confirm and cancel of one branch, or a confirm whose try never ran: refused with 409, writes nothing. */
export class PhaseConflictError extends DtxSdkError {
  constructor(xid: string, branchId: string, phase: 'confirm' | 'cancel', why: string) {
    super('PHASE_CONFLICT', `${phase} of ${xid}/${branchId} refused: ${why}`);
  }
}

/** A participant class whose decorators do not describe a usable set of actions. */
export class ParticipantDefinitionError extends DtxSdkError {
  constructor(message: string) {
    super('PARTICIPANT_DEFINITION', message);
  }
}

/** A callback whose body or URL is not a valid PROTOCOL.md callback. */
export class InvalidCallbackError extends DtxSdkError {
  constructor(message: string) {
    super('INVALID_CALLBACK', message);
  }
}

export class UnknownActionError extends DtxSdkError {
  constructor(action: string) {
    super('UNKNOWN_ACTION', `no participant serves action ${action}`);
  }
}

/** A missing, malformed, mismatching or stale `dtx-signature`. */
export type BadSignatureReason = Exclude<SignatureCheck, { ok: true }>['reason'];

const WHY_REFUSED: Record<BadSignatureReason, string> = {
  missing: 'dtx-signature is missing',
  malformed: 'dtx-signature is malformed',
  stale: 'dtx-signature is stale (over 5 minutes old or ahead)',
  mismatch: 'dtx-signature is mismatch: not made with this secret for this body',
  unbound: 'dtx-signature is unbound: v1 only, not bound to this destination (set acceptV1Signatures during a rolling upgrade)',
  destination: 'dtx-signature is for another destination: not made for',
};

export class BadSignatureError extends DtxSdkError {
  /** `destination`: the URL this participant expected the callback to be signed for. */
  constructor(readonly reason: BadSignatureReason, destination?: string) {
    super('BAD_SIGNATURE', reason === 'destination' ? `${WHY_REFUSED.destination} ${destination} (behind a proxy, set publicUrl to the URL the coordinator calls)` : WHY_REFUSED[reason]);
  }
}

/** A database URL the SDK cannot turn into a knex configuration. */
export class DatabaseUrlError extends DtxSdkError {
  constructor(url: string) {
    super('DATABASE_URL', `unsupported database URL ${url}: use sqlite:<path>, mysql://… or postgres://…`);
  }
}

/** A database URL whose driver package (a peer dependency) is not installed. */
export class DriverMissingError extends DtxSdkError {
  constructor(
    readonly packageName: string,
    scheme: string,
    options?: { cause?: unknown },
  ) {
    super('DRIVER_MISSING', `${scheme} URLs need the ${packageName} package: npm install ${packageName}`, options);
  }
}

/** Normalises anything thrown into an Error. */
export { toError } from '@dtx/protocol';

/**
 * An XA branch's rows stayed locked for longer than the SDK waits (a try still running, or
 * prepared by another call): answered 503 with Retry-After, so the caller tries again later.
 */
export class BranchBusyError extends DtxSdkError {
  constructor(xid: string, branchId: string, phase: string) {
    super('BRANCH_BUSY', `${phase} of ${xid}/${branchId}: the branch's rows are still locked by its XA branch; try again`);
  }
}

/** A participant with `@XaAction` methods on a database that cannot run them. */
export class XaUnsupportedError extends DtxSdkError {
  constructor(message: string) {
    super('XA_UNSUPPORTED', message);
  }
}

/** A participant with `@FmtAction` methods on a database FMT does not support (SQLite). */
export class FmtUnsupportedError extends DtxSdkError {
  constructor(message: string) {
    super('FMT_UNSUPPORTED', message);
  }
}

/**
 * A statement an `@FmtAction` cannot undo exactly, refused before it ran: answered 422,
 * so the try is a final refusal and the transaction rolls back at once.
 */
export class FmtUnsupportedStatementError extends DtxSdkError {
  constructor(
    readonly statement: string,
    readonly why: string,
  ) {
    super('FMT_UNSUPPORTED_STATEMENT', `FMT cannot undo ${statement}: ${why}`);
  }
}

/**
 * A row held by the global lock of another, undecided FMT transaction: answered 503 with
 * Retry-After, so the caller tries again (a try within its deadline). `withGlobalLock`
 * throws it once its wait is over.
 */
export class FmtLockBusyError extends DtxSdkError {
  constructor(
    readonly table: string,
    readonly pk: readonly (string | null)[],
    readonly holder: string,
  ) {
    super('FMT_LOCK_BUSY', `row ${table} ${JSON.stringify(pk)} is locked by the FMT transaction ${holder}; try again`);
  }
}

/** What a dirty rollback found: the first row and column that no longer hold the try's after image. */
export interface DirtyRow {
  table: string;
  pk: (string | null)[];
  column: string;
  /** The after image's value (null: SQL NULL, or the row did not exist). */
  expected: string | null;
  current: string | null;
  /** The undo record, for `resolveDirtyRollback`. */
  seq: number;
}

/**
 * A cancel that found a row changed since its try by a writer outside FMT: nothing was
 * written, the rows stay locked, and the cancel answers 409 until an operator records a
 * resolution (`resolveDirtyRollback`).
 */
export class FmtDirtyRollbackError extends DtxSdkError {
  constructor(
    xid: string,
    branchId: string,
    readonly dirty: DirtyRow,
  ) {
    super(
      'FMT_DIRTY_ROLLBACK',
      `cancel of ${xid}/${branchId}: ${dirty.table} ${JSON.stringify(dirty.pk)} column ${dirty.column} is ${JSON.stringify(dirty.current)}, not the try's ${JSON.stringify(dirty.expected)}: changed outside FMT; resolve it with resolveDirtyRollback (restore-before or keep-current)`,
    );
  }
}

/**
 * A cancel that must wait: a later try of the same transaction changed the same row and
 * is not undone yet (rows are undone in reverse order of their tries). Answered 503.
 */
export class FmtBranchWaitingError extends DtxSdkError {
  constructor(xid: string, branchId: string, later: string) {
    super('FMT_WAITING_FOR_LATER_BRANCH', `cancel of ${xid}/${branchId} waits for the cancel of branch ${later}, which changed the same rows after it`);
  }
}

/** The rows a write matched were not the rows its before image read (a phantom, or a LIMIT without a unique order): the try is rolled back and answered 503. */
export class FmtRowsMovedError extends DtxSdkError {
  constructor(table: string, imaged: number, matched: number) {
    super('FMT_ROWS_MOVED', `a write to ${table} matched ${matched} rows but its before image read ${imaged}; try again`);
  }
}

/**
 * A message's local transaction that cannot commit: the coordinator's check-back found it
 * missing and rolled the message back (`MSG_ROLLED_BACK`), or a local transaction of this
 * xid committed already (`MSG_ALREADY_COMMITTED`). Thrown inside it, so it rolls back.
 */
export class MessageNotCommittableError extends DtxSdkError {
  constructor(
    readonly xid: string,
    reason: 'rolled_back' | 'already_committed',
  ) {
    super(
      reason === 'rolled_back' ? 'MSG_ROLLED_BACK' : 'MSG_ALREADY_COMMITTED',
      reason === 'rolled_back'
        ? `message ${xid} was rolled back by the coordinator's check-back before this local transaction: it is rolled back too`
        : `message ${xid} already has a committed local transaction: this one is rolled back`,
    );
  }
}
