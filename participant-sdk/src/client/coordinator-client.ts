import {
  parseRetryAfter,
  storableText,
  TEXT_LIMITS,
  type BeginRequest,
  type BranchStatus,
  type Json,
  type RegisterBranchRequest,
  type TryReportBody,
  type TxStatus,
  type TxSummary,
  type TxView,
} from '@dtx/protocol';
import { coordinatorError, CoordinatorUnreachableError } from './errors.js';
import { callTry } from './call-try.js';
import { JsonHttp } from './http-json.js';
import { Message, type MessageOptions } from './message.js';
import { Saga, type SagaOptions, type SagaView } from './saga.js';
import { runTransaction, type InitiatorApi, type TransactionBody, type TransactionOptions, type TransactionOutcome } from './transaction.js';
import { inSpan, SpanKind, traceHeaders } from '../tracing/trace-context.js';

export interface CoordinatorClientOptions {
  /** Base URL of the coordinator, e.g. `http://127.0.0.1:8700`. */
  url: string;
  /** Bearer token, when the coordinator has API tokens configured. */
  token?: string;
  /** Time allowed for one API request, on top of any `wait`. @default 10000 */
  requestTimeoutMs?: number;
  /** Secret to sign the tries this initiator sends (the participants verify it). */
  signingSecret?: string;
}

export interface BeginResponse {
  xid: string;
  status: TxStatus;
  createdAt: string;
  deadline: string;
}

export interface DrivenResponse {
  xid: string;
  status: TxStatus;
  branches: { branchId: string; status: BranchStatus; tryResult?: Json }[];
}

export interface DecisionResponse {
  xid: string;
  status: TxStatus;
}

export interface RegisterResponse {
  xid: string;
  branchId: string;
  status: BranchStatus;
}

/** What a try returned, as the initiator reports it. */
export type TryReport = TryReportBody;

/** `wait`: false answers after the decision; true or a number of ms waits for phase 2. */
export interface DecideOptions {
  wait?: boolean | number;
}

/** A commit may carry the tries' results, recorded with the decision (PROTOCOL.md v1.1): an `ok: false` one rolls back. */
export interface CommitOptions extends DecideOptions {
  tryResults?: Record<string, TryReport>;
}

/** A client of the coordinator's `/v1` API (PROTOCOL.md); every error answer is a typed CoordinatorError. */
export class CoordinatorClient {
  readonly url: string;
  /** Also used for the tries the initiator sends, so one close() ends all sockets. */
  readonly #http = new JsonHttp();
  private readonly token: string | undefined;
  private readonly requestTimeoutMs: number;
  readonly #signingSecret: string | undefined;

  constructor(opts: CoordinatorClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.#signingSecret = opts.signingSecret;
  }

  /** Begin; `branches` (PROTOCOL.md v1.1) are registered in the same write, to be tried by this initiator. */
  begin(req: Omit<BeginRequest, 'drive' | 'order' | 'wait'> = {}): Promise<BeginResponse> {
    return this.call('POST', '/v1/transactions', req);
  }

  /** Driven mode: the coordinator runs tries and phase 2 in this one request. */
  drive(req: Omit<BeginRequest, 'drive' | 'branches'> & { branches: RegisterBranchRequest[] }): Promise<DrivenResponse> {
    return this.call('POST', '/v1/transactions', { ...req, drive: true }, waitMs(req.wait ?? true));
  }

  /** A saga's begin (PROTOCOL.md v1.2): the coordinator runs its steps; answers once it ended or `wait` ran out. */
  beginSaga(req: Omit<BeginRequest, 'mode' | 'branches' | 'drive' | 'order'> & { steps: NonNullable<BeginRequest['steps']> }): Promise<SagaView> {
    return this.call('POST', '/v1/transactions', { ...req, mode: 'saga' }, waitMs(req.wait ?? true));
  }

  register(xid: string, branch: RegisterBranchRequest): Promise<RegisterResponse> {
    return this.call('POST', `/v1/transactions/${enc(xid)}/branches`, branch);
  }

  reportTryResult(xid: string, branchId: string, report: TryReport): Promise<unknown> {
    return this.call('POST', `/v1/transactions/${enc(xid)}/branches/${enc(branchId)}/try-result`, report);
  }

  commit(xid: string, opts: CommitOptions = {}): Promise<DecisionResponse> {
    const body: { wait: boolean | number; tryResults?: Record<string, TryReport> } = { wait: opts.wait ?? false };
    if (opts.tryResults && Object.keys(opts.tryResults).length > 0) body.tryResults = opts.tryResults;
    return this.call('POST', `/v1/transactions/${enc(xid)}/commit`, body, waitMs(opts.wait));
  }

  rollback(xid: string, opts: DecideOptions & { reason?: string } = {}): Promise<DecisionResponse> {
    const body: { wait: boolean | number; reason?: string } = { wait: opts.wait ?? false };
    if (opts.reason !== undefined) body.reason = storableText(opts.reason.slice(0, TEXT_LIMITS.reasonChars));
    return this.call('POST', `/v1/transactions/${enc(xid)}/rollback`, body, waitMs(opts.wait));
  }

  get(xid: string): Promise<TxView> {
    return this.call('GET', `/v1/transactions/${enc(xid)}`);
  }

  list(query: { status?: TxStatus; stuck?: boolean; limit?: number; cursor?: string } = {}): Promise<{ items: TxSummary[]; nextCursor: string | null }> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const s = qs.toString();
    return this.call('GET', `/v1/transactions${s ? `?${s}` : ''}`);
  }

  /** Operator action: run phase 2 of a committing / rolling_back transaction now. */
  retry(xid: string): Promise<DecisionResponse> {
    return this.call('POST', `/v1/transactions/${enc(xid)}/retry`, {});
  }

  /**
   * Runs `body` as one global transaction: each `tx.call` registers its branch (the first
   * ones with the begin) and sends the try, then commit (with the tries' results) when
   * `body` returns, or rollback when it throws.
   */
  transaction<T>(body: TransactionBody<T>, opts: TransactionOptions = {}): Promise<TransactionOutcome<T>> {
    const api: InitiatorApi = {
      begin: (req) => this.begin(req),
      register: (xid, branch) => this.register(xid, branch),
      reportTryResult: (xid, branchId, report) => this.reportTryResult(xid, branchId, report),
      commit: (xid, o) => this.commit(xid, o),
      rollback: (xid, o) => this.rollback(xid, o),
      sendTry: (call) => callTry(this.#http, { ...call, signingSecret: this.#signingSecret }),
    };
    return inSpan('dtx transaction', SpanKind.INTERNAL, {}, async (span) => {
      const outcome = await runTransaction(api, body, opts);
      span.setAttributes({ 'dtx.xid': outcome.xid, 'dtx.status': outcome.status });
      return outcome;
    });
  }

  /**
   * A saga to put together: `saga.step(ref, payload, { after })` for each step, then
   * `saga.run()` begins it and waits (`wait`) for its outcome.
   */
  saga(opts: SagaOptions = {}): Saga {
    return new Saga({ beginSaga: (req) => this.beginSaga({ ...req, steps: req.steps ?? [] }) }, opts);
  }

  /**
   * A message to put together: `message.step(ref, payload)` for each step, then
   * `message.commitWith(knex, async (trx) => …)` runs the local transaction and commits it.
   */
  message(opts: MessageOptions): Message {
    return new Message({ begin: (req) => this.begin(req), commit: (xid, o) => this.commit(xid, o), rollback: (xid, o) => this.rollback(xid, o) }, opts);
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, extraMs = 0): Promise<T> {
    const url = `${this.url}${path}`;
    // the caller's trace (PROTOCOL.md v1.1 "Trace context"): a begin's is stored and its callbacks continue it
    const headers: Record<string, string> = { ...traceHeaders(), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) };
    let answer;
    try {
      const opts: { body?: string; headers: Record<string, string>; timeoutMs: number } = { headers, timeoutMs: this.requestTimeoutMs + extraMs };
      if (body !== undefined) opts.body = JSON.stringify(body);
      answer = await this.#http.send(method, url, opts);
    } catch (cause) {
      throw new CoordinatorUnreachableError(url, { cause });
    }
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    throw coordinatorError(answer.status, answer.body, parseRetryAfter(answer.headers['retry-after']));
  }
}

const enc = encodeURIComponent;

/** How much longer than usual a request may take when it asks the coordinator to wait. */
function waitMs(wait: boolean | number | undefined): number {
  if (wait === true) return 120_000;
  return typeof wait === 'number' ? wait : 0;
}
