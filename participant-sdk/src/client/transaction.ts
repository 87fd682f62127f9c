import { backoffDelayMs, newXid, TEXT_LIMITS, type BackoffPolicy, type Json, type RegisterBranchRequest, type TxStatus } from '@dtx/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { toError } from '../errors.js';
import { branchOf, type ActionRef } from './action-ref.js';
import type { TryAnswer, TryCall } from './call-try.js';
import { CoordinatorUnreachableError, StoreUnavailableError, TransactionUnfinishedError, TryDeadlineError, TryRejectedError, TxRolledBackError, type UnfinishedState } from './errors.js';

export interface TransactionOptions {
  /** Lifetime of the transaction; past it the coordinator rolls back. @default 60000 */
  timeoutMs?: number;
  xid?: string;
  meta?: Json;
  /** Time limit of one try call. @default 5000 */
  tryTimeoutMs?: number;
  /** Backoff between attempts of a transiently failing try. @default { baseMs: 100, maxMs: 2000 } */
  tryRetry?: BackoffPolicy;
  /** Wait for phase 2 before returning: true, false, or at most this many ms. @default true */
  wait?: boolean | number;
}

export interface CallOptions {
  /** Unique within the transaction. @default `b<n>.<action>` */
  branchId?: string;
  /** Time limit of one try call, also used by the coordinator for confirm/cancel. */
  timeoutMs?: number;
}

export interface Tx {
  readonly xid: string;
  readonly deadline: Date;
  /** Registers a branch of `ref` and runs its try; resolves to the try result, throws if the try is refused. */
  call<P, R>(ref: ActionRef<P, R>, payload: P, opts?: CallOptions): Promise<R>;
}

export type TransactionBody<T> = (tx: Tx) => Promise<T>;

export type TransactionOutcome<T> =
  /** `committing`: the decision is durable and phase 2 is still running (or `wait` was false). */
  | { xid: string; status: Extract<TxStatus, 'committed' | 'committing'>; result: T }
  /** Why it rolled back is in `error`: what the body threw (e.g. TryRejectedError) or a refused commit. */
  | { xid: string; status: Extract<TxStatus, 'rolled_back' | 'rolling_back'>; error: Error };

/** What a transaction needs of its client: the coordinator's API, and a way to send a try (signed, on the client's sockets). */
export interface InitiatorApi {
  begin(req: { timeoutMs?: number; xid?: string; meta?: Json }): Promise<{ xid: string; deadline: string }>;
  register(xid: string, branch: RegisterBranchRequest): Promise<unknown>;
  reportTryResult(xid: string, branchId: string, report: { ok: true; result?: Json } | { ok: false; error: string }): Promise<unknown>;
  commit(xid: string, opts: { wait?: boolean | number }): Promise<{ status: TxStatus }>;
  rollback(xid: string, opts: { wait?: boolean | number; reason?: string }): Promise<{ status: TxStatus }>;
  sendTry(call: Omit<TryCall, 'signingSecret'>): Promise<TryAnswer>;
}

/**
 * Every coordinator call here is idempotent, so each is repeated while the coordinator is
 * unreachable or its store unavailable, until the transaction's deadline (the xid is
 * chosen here, so a repeated begin is the same begin). Past the deadline the coordinator
 * no longer needs this client: it gives up with TransactionUnfinishedError.
 */
export async function runTransaction<T>(client: InitiatorApi, body: TransactionBody<T>, opts: TransactionOptions): Promise<TransactionOutcome<T>> {
  const xid = opts.xid ?? newXid();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const beginReq: { timeoutMs: number; xid: string; meta?: Json } = { timeoutMs, xid };
  if (opts.meta !== undefined) beginReq.meta = opts.meta;
  // the coordinator's deadline counts from when the begin lands, so it is no earlier than this one
  const begun = await untilUnfinished(xid, 'not_begun', Date.now() + timeoutMs, () => client.begin(beginReq));
  const deadline = new Date(begun.deadline);
  const until = deadline.getTime();
  const wait = opts.wait ?? true;
  const tx = new InitiatorTx(client, xid, deadline, opts);

  let result: T;
  try {
    result = await body(tx);
  } catch (thrown) {
    const error = toError(thrown);
    const res = await untilUnfinished(xid, 'trying', until, () => client.rollback(xid, { wait, reason: error.message.slice(0, TEXT_LIMITS.reasonChars) }));
    return { xid, status: res.status as 'rolled_back' | 'rolling_back', error };
  }
  try {
    const res = await untilUnfinished(xid, 'unknown', until, () => client.commit(xid, { wait }));
    return { xid, status: res.status as 'committed' | 'committing', result };
  } catch (err) {
    // The deadline passed before our commit landed: recovery decided rollback first. Our
    // own rollback (idempotent) waits for that phase 2 as `wait` asks.
    if (!(err instanceof TxRolledBackError)) throw err;
    // the decision is known either way: if the coordinator cannot be reached to wait for it, say where it stood
    const status = await whileTransient(until, () => client.rollback(xid, { wait })).then(
      (res) => res.status as 'rolled_back' | 'rolling_back',
      () => (err.details.status === 'rolled_back' ? 'rolled_back' : 'rolling_back'),
    );
    return { xid, status, error: err };
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** whileTransient, giving up past `untilMs` with what that leaves the transaction in. */
async function untilUnfinished<T>(xid: string, state: UnfinishedState, untilMs: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await whileTransient(untilMs, fn);
  } catch (err) {
    if (isTransient(err)) throw new TransactionUnfinishedError(xid, state, { cause: err });
    throw err;
  }
}

class InitiatorTx implements Tx {
  private branches = 0;

  constructor(
    private readonly client: InitiatorApi,
    readonly xid: string,
    readonly deadline: Date,
    private readonly opts: TransactionOptions,
  ) {}

  async call<P, R>(ref: ActionRef<P, R>, payload: P, callOpts: CallOptions = {}): Promise<R> {
    const n = ++this.branches;
    const branchId = callOpts.branchId ?? `b${n}.${ref.action}`.slice(0, 64);
    const timeoutMs = callOpts.timeoutMs ?? this.opts.tryTimeoutMs ?? 5000;
    const until = this.deadline.getTime();
    // Registered before the try is sent, so a try whose answer is lost is still cancelled.
    await whileTransient(until, () =>
      this.client.register(this.xid, branchOf(ref, branchId, payload, { timeoutMs })),
    );
    const policy = this.opts.tryRetry ?? { baseMs: 100, maxMs: 2000 };
    let lastReason = '';
    for (let attempt = 1; ; attempt++) {
      const left = until - Date.now();
      if (left <= 0) throw new TryDeadlineError(ref.action, branchId, attempt - 1, { cause: new Error(lastReason) });
      const answer = await this.client.sendTry({ url: ref.tryUrl, action: ref.action, xid: this.xid, branchId, payload, attempt, timeoutMs: Math.min(timeoutMs, left) });
      if (answer.kind === 'ok') {
        const report = answer.result === undefined ? { ok: true as const } : { ok: true as const, result: answer.result as Json };
        await whileTransient(until, () => this.client.reportTryResult(this.xid, branchId, report));
        return answer.result as R;
      }
      if (answer.kind === 'rejected') {
        const error = new TryRejectedError(ref.action, branchId, answer.status, answer.code, answer.message);
        // Best effort: the rollback that follows cancels the branch whether or not this lands.
        await this.client.reportTryResult(this.xid, branchId, { ok: false, error: error.message.slice(0, TEXT_LIMITS.errorChars) }).catch(() => {});
        throw error;
      }
      lastReason = answer.reason;
      const delay = backoffDelayMs(policy, attempt, answer.retryAfterMs);
      await sleep(Math.max(0, Math.min(delay, until - Date.now())));
    }
  }
}

/**
 * Repeats an idempotent coordinator call while the coordinator is unreachable or its
 * store is down, until `untilMs` (at least once); every other error is final.
 */
async function whileTransient<T>(untilMs: number, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransient(err) || Date.now() >= untilMs) throw err;
      const retryAfter = err instanceof StoreUnavailableError ? err.retryAfterMs : null;
      await sleep(Math.min(backoffDelayMs({ baseMs: 200, maxMs: 5000 }, attempt, retryAfter), Math.max(0, untilMs - Date.now())));
    }
  }
}

function isTransient(err: unknown): err is CoordinatorUnreachableError | StoreUnavailableError {
  return err instanceof CoordinatorUnreachableError || err instanceof StoreUnavailableError;
}
