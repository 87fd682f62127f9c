import { backoffDelayMs, newXid, TEXT_LIMITS, type BackoffPolicy, type Json, type RegisterBranchRequest, type TryReportBody, type TxStatus } from '@dtx/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { toError } from '../errors.js';
import { branchOf, type ActionRef } from './action-ref.js';
import type { TryAnswer, TryCall } from './call-try.js';
import { TryDeadlineError, TryRejectedError, TxRolledBackError } from './errors.js';
import { untilUnfinished, whileTransient } from './while-transient.js';

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
  /** The coordinator's deadline once the transaction has begun (at the first call); before that, an estimate no later than it. */
  readonly deadline: Date;
  /**
   * Registers a branch of `ref` and runs its try; resolves to the try result, throws if the try is refused.
   * Branches called in the same turn (`Promise.all`) before the first begin are registered with it.
   */
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
  begin(req: { timeoutMs?: number; xid?: string; meta?: Json; branches?: RegisterBranchRequest[] }): Promise<{ xid: string; deadline: string }>;
  register(xid: string, branch: RegisterBranchRequest): Promise<unknown>;
  reportTryResult(xid: string, branchId: string, report: TryReportBody): Promise<unknown>;
  commit(xid: string, opts: { wait?: boolean | number; tryResults?: Record<string, TryReportBody> }): Promise<{ status: TxStatus }>;
  rollback(xid: string, opts: { wait?: boolean | number; reason?: string }): Promise<{ status: TxStatus }>;
  sendTry(call: Omit<TryCall, 'signingSecret'>): Promise<TryAnswer>;
}

/**
 * The shorter flow of PROTOCOL.md v1.1: the begin is sent with the first `tx.call` and
 * carries every branch called in that same turn (`Promise.all([tx.call(a), tx.call(b)])`),
 * a branch called later is registered on its own, always before its try, and the commit
 * carries the tries' results. So two branches cost two coordinator requests when called
 * together, three one after the other; a body that throws reports the results it has (best
 * effort, so cancels receive them) before its rollback.
 *
 * Every coordinator call here is idempotent, so each is repeated while the coordinator is
 * unreachable or its store unavailable, until the transaction's deadline (the xid is
 * chosen here, so a repeated begin is the same begin). Past the deadline the coordinator
 * no longer needs this client: it gives up with TransactionUnfinishedError.
 */
export async function runTransaction<T>(client: InitiatorApi, body: TransactionBody<T>, opts: TransactionOptions): Promise<TransactionOutcome<T>> {
  const xid = opts.xid ?? newXid();
  const wait = opts.wait ?? true;
  const tx = new InitiatorTx(client, xid, opts);

  let result: T;
  try {
    result = await body(tx);
  } catch (thrown) {
    // a begin that failed is the transaction's failure, not the body's
    await tx.begin();
    const error = toError(thrown);
    await tx.reportResults();
    const res = await untilUnfinished(xid, 'trying', tx.until, () => client.rollback(xid, { wait, reason: error.message.slice(0, TEXT_LIMITS.reasonChars) }));
    return { xid, status: res.status as 'rolled_back' | 'rolling_back', error };
  }
  await tx.begin(); // a body that called nothing still begins (and commits) its transaction
  const tryResults = tx.tryResults();
  try {
    const res = await untilUnfinished(xid, 'unknown', tx.until, () => client.commit(xid, { wait, tryResults }));
    return { xid, status: res.status as 'committed' | 'committing', result };
  } catch (err) {
    // The deadline passed before our commit landed: recovery decided rollback first. Our
    // own rollback (idempotent) waits for that phase 2 as `wait` asks.
    if (!(err instanceof TxRolledBackError)) throw err;
    // the decision is known either way: if the coordinator cannot be reached to wait for it, say where it stood
    const status = await whileTransient(tx.until, () => client.rollback(xid, { wait })).then(
      (res) => res.status as 'rolled_back' | 'rolling_back',
      () => (err.details.status === 'rolled_back' ? 'rolled_back' : 'rolling_back'),
    );
    return { xid, status, error: err };
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** The shortest `timeoutMs` a begin may ask for (PROTOCOL.md). */
const MIN_TIMEOUT_MS = 1000;

class InitiatorTx implements Tx {
  #branches = 0;
  readonly #timeoutMs: number;
  readonly #startedAt = Date.now();
  /** Counted from when transaction() started; the coordinator's once the begin answers. */
  #deadline: Date;
  #begin: Promise<void> | null = null;
  /** Set once the begin request is built: later branches register on their own. */
  #beginSent = false;
  readonly #withBegin: RegisterBranchRequest[] = [];
  readonly #results = new Map<string, TryReportBody>();

  constructor(
    private readonly client: InitiatorApi,
    readonly xid: string,
    private readonly opts: TransactionOptions,
  ) {
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#deadline = new Date(this.#startedAt + this.#timeoutMs);
  }

  get deadline(): Date {
    return this.#deadline;
  }

  get until(): number {
    return this.#deadline.getTime();
  }

  /** Begins the transaction once; sent on the next microtask, so the branches called in this turn go with it. */
  begin(): Promise<void> {
    return (this.#begin ??= Promise.resolve().then(() => this.#sendBegin()));
  }

  async #sendBegin(): Promise<void> {
    this.#beginSent = true;
    // the lifetime counts from transaction()'s start, not from the first call (but never below the protocol's minimum)
    const timeoutMs = Math.max(MIN_TIMEOUT_MS, this.#timeoutMs - (Date.now() - this.#startedAt));
    const req: Parameters<InitiatorApi['begin']>[0] = { timeoutMs, xid: this.xid };
    if (this.opts.meta !== undefined) req.meta = this.opts.meta;
    if (this.#withBegin.length > 0) req.branches = this.#withBegin;
    // the coordinator's deadline counts from when the begin lands, so it is no earlier than this one
    const begun = await untilUnfinished(this.xid, 'not_begun', Date.now() + timeoutMs, () => this.client.begin(req));
    this.#deadline = new Date(begun.deadline);
  }

  /** The results of the tries that succeeded, for the commit. */
  tryResults(): Record<string, TryReportBody> {
    return Object.fromEntries(this.#results);
  }

  /** Before a rollback: the results kept so far, so the cancels receive them. Best effort: the rollback cancels every branch either way. */
  async reportResults(): Promise<void> {
    await Promise.all([...this.#results].map(([branchId, report]) => this.client.reportTryResult(this.xid, branchId, report).catch(() => {})));
  }

  async call<P, R>(ref: ActionRef<P, R>, payload: P, callOpts: CallOptions = {}): Promise<R> {
    const n = ++this.#branches;
    const branchId = callOpts.branchId ?? `b${n}.${ref.action}`.slice(0, 64);
    const timeoutMs = callOpts.timeoutMs ?? this.opts.tryTimeoutMs ?? 5000;
    const branch = branchOf(ref, branchId, payload, { timeoutMs });
    // Registered before the try is sent (with the begin, or on its own), so a try whose answer is lost is still cancelled.
    if (!this.#beginSent) {
      // a first call made after the deadline: nothing is registered anywhere, and nothing is tried
      if (Date.now() >= this.until) throw new TryDeadlineError(ref.action, branchId, 0, { cause: new Error('the transaction reached its deadline before its first call') });
      this.#withBegin.push(branch);
      await this.begin();
    } else {
      await this.begin();
      await whileTransient(this.until, () => this.client.register(this.xid, branch));
    }
    const until = this.until;
    const policy = this.opts.tryRetry ?? { baseMs: 100, maxMs: 2000 };
    let lastReason = '';
    for (let attempt = 1; ; attempt++) {
      const left = until - Date.now();
      if (left <= 0) throw new TryDeadlineError(ref.action, branchId, attempt - 1, { cause: new Error(lastReason) });
      const answer = await this.client.sendTry({ url: ref.tryUrl, action: ref.action, xid: this.xid, branchId, payload, attempt, timeoutMs: Math.min(timeoutMs, left) });
      if (answer.kind === 'ok') {
        this.#results.set(branchId, answer.result === undefined ? { ok: true } : { ok: true, result: answer.result as Json });
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
