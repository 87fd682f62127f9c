import { newXid, TEXT_LIMITS, type BeginRequest, type Json, type SagaStepRequest, type TxStatus } from '@dtx/protocol';
import type { Knex } from 'knex';
import { claimMessage } from '../barrier/message-rows.js';
import { MessageNotCommittableError, toError } from '../errors.js';
import type { MsgActionRef } from './action-ref.js';
import type { SagaStep } from './saga.js';
import { untilUnfinished } from './while-transient.js';

export interface MessageOptions {
  /**
   * Where the coordinator asks, once the deadline passed without a commit, whether the
   * local transaction committed: this producer's plugin, `messageCheckUrl(itsBaseUrl)`.
   */
  checkUrl: string;
  /** How long the coordinator waits for the commit before it checks back. @default 30000 */
  timeoutMs?: number;
  xid?: string;
  meta?: Json;
  /** After the commit, wait for every step to be delivered: true, false, or at most this many ms. @default false */
  wait?: boolean | number;
}

export interface MessageStepOptions {
  /** Unique within the message. @default `m<n>.<action>` */
  branchId?: string;
  /** Steps delivered before this one; @default the step added before it (see SagaStepOptions). */
  after?: readonly SagaStep<unknown>[];
  /** Time limit of one delivery call. */
  timeoutMs?: number;
}

export interface MessageOutcome<T> {
  readonly xid: string;
  /** `committing`: decided, delivery under way (or `wait` was false); `committed`: every step delivered. */
  readonly status: Extract<TxStatus, 'committing' | 'committed'>;
  /** What the local transaction returned. */
  readonly result: T;
}

/** What a message needs of its client: the coordinator's begin, commit and rollback. */
export interface MessageApi {
  begin(req: BeginRequest): Promise<{ deadline: string }>;
  commit(xid: string, opts: { wait: boolean | number }): Promise<{ status: TxStatus }>;
  rollback(xid: string, opts: { reason: string }): Promise<unknown>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * A message (PROTOCOL.md v1.2): steps delivered if, and only if, the producer's local
 * transaction commits. Add its steps, then `commitWith(knex, local)`: it prepares the
 * message (a `msg` begin naming `checkUrl`), runs `local` in one local transaction that
 * also claims the message in the producer's barrier, and commits the message. A producer
 * that dies between its local commit and the commit is found out by the check-back, which
 * answers from the barrier; one that dies before its local commit never delivers anything.
 * Coordinator calls are repeated while it is unreachable or its store down, until the deadline.
 */
export class Message {
  readonly xid: string;
  readonly #steps: SagaStepRequest[] = [];
  #prepared: Promise<number> | null = null;

  constructor(
    private readonly api: MessageApi,
    private readonly opts: MessageOptions,
  ) {
    this.xid = opts.xid ?? newXid();
  }

  /** Adds a step: `ref`'s action is called with `payload` once the message commits, until it succeeds. */
  step<P, R>(ref: MsgActionRef<P, R>, payload: P, opts: MessageStepOptions = {}): SagaStep<R> {
    if (this.#prepared) throw new Error(`message ${this.xid} is prepared already: add steps before prepare() or commitWith()`);
    const branchId = opts.branchId ?? `m${this.#steps.length + 1}.${ref.action}`.slice(0, 64);
    const step: SagaStepRequest = { branchId, action: ref.action, actionUrl: ref.actionUrl, payload: payload as Json };
    if (opts.after !== undefined) step.after = opts.after.map((s) => s.branchId);
    if (opts.timeoutMs !== undefined) step.timeoutMs = opts.timeoutMs;
    this.#steps.push(step);
    return { branchId, action: ref.action };
  }

  /** Logs the message as prepared (`trying`), once; commitWith() does it when not done before. Resolves to its deadline (ms). */
  prepare(): Promise<number> {
    return (this.#prepared ??= this.#begin());
  }

  async #begin(): Promise<number> {
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const req: BeginRequest = { mode: 'msg', xid: this.xid, timeoutMs, checkUrl: this.opts.checkUrl, steps: this.#steps };
    if (this.opts.meta !== undefined) req.meta = this.opts.meta;
    const until = Date.now() + timeoutMs;
    const begun = await untilUnfinished(this.xid, 'not_begun', until, () => this.api.begin(req));
    const deadline = Date.parse(begun.deadline);
    return Number.isFinite(deadline) ? deadline : until;
  }

  /**
   * Runs `local` in one local transaction of `knex` (the database the producer's plugin
   * checks back in) with the message's barrier rows, then commits the message. A `local`
   * that throws rolls both back and rethrows; MessageNotCommittableError means a
   * check-back rolled the message back first.
   */
  async commitWith<T>(knex: Knex, local: (trx: Knex.Transaction) => Promise<T>): Promise<MessageOutcome<T>> {
    const deadline = await this.prepare();
    let result: T;
    try {
      result = await knex.transaction(async (trx) => {
        await claimMessage(trx, this.xid);
        return local(trx);
      });
    } catch (err) {
      // best effort: a message left trying is rolled back by its check-back anyway
      if (!(err instanceof MessageNotCommittableError)) {
        await this.api.rollback(this.xid, { reason: toError(err).message.slice(0, TEXT_LIMITS.reasonChars) }).catch(() => {});
      }
      throw err;
    }
    const wait = this.opts.wait ?? false;
    const decided = await untilUnfinished(this.xid, 'msg_committed_locally', deadline, () => this.api.commit(this.xid, { wait }));
    return { xid: this.xid, status: decided.status as MessageOutcome<T>['status'], result };
  }
}
