import { newXid, type BeginRequest, type BranchStatus, type Json, type SagaStepRequest, type TxStatus } from '@dtx/protocol';
import type { SagaActionRef } from './action-ref.js';
import { untilUnfinished } from './while-transient.js';

export interface SagaOptions {
  /** Lifetime of the forward path; a step not done by then compensates the saga. @default 60000 */
  timeoutMs?: number;
  xid?: string;
  meta?: Json;
  /** Wait for the saga to end before returning: true, false (once it is logged), or at most this many ms. @default true */
  wait?: boolean | number;
}

export interface SagaStepOptions {
  /** Unique within the saga. @default `s<n>.<action>` */
  branchId?: string;
  /**
   * The steps that must be done before this one runs. @default the step added before it
   * (none for the first): steps run one at a time in the order they were added. `[]` runs
   * it at once, in parallel with the others that are ready.
   */
  after?: readonly SagaStep<unknown>[];
  /** Time limit of one call of its action and compensation. */
  timeoutMs?: number;
}

/** A step added to a saga: name it in a later step's `after`, or read its result from the outcome. */
export interface SagaStep<Result> {
  readonly branchId: string;
  readonly action: string;
  /** Type-level only; never set. */
  readonly __result?: Result;
}

/** A step as the coordinator reports it (PROTOCOL.md v1.2: `registered` → `done` | `failed` → `compensated`). */
export interface SagaStepView {
  branchId: string;
  status: BranchStatus;
  /** What its action answered. */
  result?: Json;
  lastError?: string;
}

/** The coordinator's answer to a saga's begin. */
export interface SagaView {
  xid: string;
  status: TxStatus;
  reason: string | null;
  branches: SagaStepView[];
}

export interface SagaOutcome {
  readonly xid: string;
  /**
   * `committed`: every step is done. `rolled_back`: a step was refused or the deadline
   * passed, and every step that had been called is compensated. `trying` / `rolling_back`:
   * still running when the wait ended (or `wait` was false); the coordinator finishes it.
   */
  readonly status: TxStatus;
  /** Why it rolled back (the refusal, `timeout`), else null. */
  readonly reason: string | null;
  readonly steps: readonly SagaStepView[];
  /** What a step's action answered, typed from its action reference; undefined while it has not answered. */
  resultOf<R>(step: SagaStep<R>): R | undefined;
}

/** What a saga needs of its client: the coordinator's begin. */
export interface SagaApi {
  beginSaga(req: BeginRequest): Promise<SagaView>;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * A saga (PROTOCOL.md v1.2) being put together: add its steps, then `run()` hands it to
 * the coordinator in one begin, which runs the actions forward and, on a refusal or the
 * deadline, compensates the ones it called, in reverse. The begin is repeated while the
 * coordinator is unreachable or its store down, until the deadline: the xid is chosen
 * here, so a repeat is the same saga.
 */
export class Saga {
  readonly xid: string;
  readonly #steps: SagaStepRequest[] = [];
  #ran = false;

  constructor(
    private readonly api: SagaApi,
    private readonly opts: SagaOptions = {},
  ) {
    this.xid = opts.xid ?? newXid();
  }

  /** Adds a step that calls `ref`'s action with `payload`; its compensation gets the same payload and the action's result. */
  step<P, R>(ref: SagaActionRef<P, R>, payload: P, opts: SagaStepOptions = {}): SagaStep<R> {
    if (this.#ran) throw new Error(`saga ${this.xid} has already run: add steps before run()`);
    const branchId = opts.branchId ?? `s${this.#steps.length + 1}.${ref.action}`.slice(0, 64);
    const step: SagaStepRequest = { branchId, action: ref.action, actionUrl: ref.actionUrl, compensateUrl: ref.compensateUrl, payload: payload as Json };
    if (opts.after !== undefined) step.after = opts.after.map((s) => s.branchId);
    if (opts.timeoutMs !== undefined) step.timeoutMs = opts.timeoutMs;
    this.#steps.push(step);
    return { branchId, action: ref.action };
  }

  /** Begins the saga and, as `wait` says, waits for its end. Bad steps are the coordinator's `INVALID_REQUEST`. */
  async run(): Promise<SagaOutcome> {
    this.#ran = true;
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const req: BeginRequest = { mode: 'saga', xid: this.xid, timeoutMs, wait: this.opts.wait ?? true, steps: this.#steps };
    if (this.opts.meta !== undefined) req.meta = this.opts.meta;
    const view = await untilUnfinished(this.xid, 'saga_submitted', Date.now() + timeoutMs, () => this.api.beginSaga(req));
    return sagaOutcome(view);
  }
}

function sagaOutcome(view: SagaView): SagaOutcome {
  const byId = new Map(view.branches.map((b) => [b.branchId, b]));
  return {
    xid: view.xid,
    status: view.status,
    reason: view.reason ?? null,
    steps: view.branches,
    resultOf: <R>(step: SagaStep<R>) => byId.get(step.branchId)?.result as R | undefined,
  };
}
