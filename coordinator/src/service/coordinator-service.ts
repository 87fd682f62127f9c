import { newXid, type AttemptView, type BeginRequest, type DecideRequest, type RegisterBranchRequest, type TryReportBody, type TxMode, type TxStatus, type TxSummary, type TxView } from '@dtx/protocol';
import { LIMITS, type ResolvedOptions } from '../config/options.js';
import { canonicalJson } from '../core/canonical-json.js';
import { isDecided, isFinal, type Verb } from '../core/transitions.js';
import { InvalidRequestError, PayloadTooLargeError, TxCommittedError, TxExistsError, TxNotFoundError, TxRolledBackError } from '../errors.js';
import { listTransactions } from '../log/queries/listTransactions.js';
import { readAttempts } from '../log/queries/readAttempts.js';
import { readBranches, readTx, readTxWithBranches } from '../log/queries/readTransaction.js';
import { newTxRecord, type TxRecord } from '../log/records.js';
import type { TransactionLog } from '../log/transaction-log.js';
import { commitWrite, decide } from '../log/transitions/decide.js';
import { insertBranchWrite, sameRegistration } from '../log/transitions/insertBranch.js';
import { insertTransactionWrite } from '../log/transitions/insertTransaction.js';
import { recordTryReportWrite } from '../log/transitions/recordTryReport.js';
import { requestRetry } from '../log/transitions/requestRetry.js';
import { abandonTransaction } from '../log/transitions/abandonTransaction.js';
import { retryDueLater } from '../log/transitions/retryDueLater.js';
import type { DtxLogger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { ParticipantCaller } from '../phase2/participant-caller.js';
import { Phase2Rounds } from '../phase2/rounds.js';
import { branchRecord } from './branch-input.js';
import { tryOutcome } from './try-report-input.js';
import { repeatDriven, runDriven, triesHeldFor, type DrivenDeps } from './driven.js';
import type { StoredTrace } from '../tracing/trace-context.js';
import { attemptView, beginView, drivenView, traceIdOf, txSummary, txView } from './views.js';
import { beginSaga } from './saga-begin.js';
import { beginMessage } from './msg-begin.js';

/** Longest a `"wait": true` request waits for phase 2. */
const WAIT_TRUE_MS = 30_000;

export interface ServiceDeps {
  log: TransactionLog;
  caller: ParticipantCaller;
  options: ResolvedOptions;
  metrics: Metrics;
  /** Decisions and failed participant calls, one structured line each. */
  logger?: DtxLogger;
  now?: () => number;
  /** With Redis: hand a transaction to the workers instead of driving it here. */
  enqueueRecovery?: (xid: string) => Promise<void>;
}

/** A use case's answer, and whether it created what it names (HTTP answers 201 then). */
export interface Created<T> {
  created: boolean;
  view: T;
  /** The HTTP status when it is not 201/200 by `created` (a saga's 202 while it runs). */
  code?: 200 | 202;
}

export interface DecisionView {
  xid: string;
  status: TxStatus;
}

/** The coordinator's use cases, one method per API operation; HTTP lives in http/, phase-2 rounds in phase2/rounds.ts. */
export class CoordinatorService {
  readonly #now: () => number;
  readonly #rounds: Phase2Rounds;
  readonly #driven: DrivenDeps;

  constructor(private readonly deps: ServiceDeps) {
    const now = deps.now ?? Date.now;
    this.#now = now;
    const { log, caller, options, metrics, logger } = deps;
    this.#rounds = new Phase2Rounds({ log, caller, options, now, metrics, logger, leaseMs: options.phase2LeaseMs });
    this.#driven = { log, caller, options, now, metrics, logger, rounds: this.#rounds };
  }

  /**
   * Begin; `trace` is the trace context its callbacks will carry (PROTOCOL.md v1.1 "Trace context");
   * `dtmJson` the DTM options of one begun through the DTM-compatible surface (dtm/dialect.ts).
   */
  async begin(req: BeginRequest, trace?: StoredTrace, dtmJson: string | null = null): Promise<Created<unknown>> {
    const now = this.#now();
    const xid = req.xid ?? newXid(now);
    const timeoutMs = req.timeoutMs ?? LIMITS.defaultTimeoutMs;
    const metaJson = req.meta === undefined ? null : canonicalJson(req.meta);
    if (metaJson !== null && Buffer.byteLength(metaJson) > LIMITS.metaBytes) throw new PayloadTooLargeError('meta', LIMITS.metaBytes);
    if (req.checkUrl !== undefined && req.mode !== 'msg') throw new InvalidRequestError('checkUrl belongs to a message', [{ path: '/checkUrl', message: 'needs "mode": "msg"' }]);
    if (req.mode === 'saga') return beginSaga(this.#driven, { xid, timeoutMs, metaJson, waitTrueMs: WAIT_TRUE_MS, dtmJson }, req, trace);
    if (req.mode === 'msg') return beginMessage(this.#driven, { xid, timeoutMs, metaJson, dtmJson }, req, trace);
    if (req.steps !== undefined) throw new InvalidRequestError('steps belong to a saga or a message', [{ path: '/steps', message: 'needs "mode": "saga" or "msg"' }]);
    const branchReqs = req.branches ?? [];
    if (req.drive && branchReqs.length === 0) {
      throw new InvalidRequestError('drive needs branches', [{ path: '/branches', message: 'must list at least one branch when drive is true' }]);
    }
    const seen = new Set<string>();
    const branches = branchReqs.map((b, i) => {
      if (seen.has(b.branchId)) throw new InvalidRequestError(`branch ${b.branchId} is listed twice`, [{ path: `/branches/${i}/branchId`, message: 'must be unique' }]);
      seen.add(b.branchId);
      if (req.drive && !b.tryUrl) throw new InvalidRequestError('driven branches need a tryUrl', [{ path: `/branches/${i}/tryUrl`, message: 'is required when drive is true' }]);
      return branchRecord(xid, b, i + 1, now, this.deps.options, `/branches/${i}`);
    });
    const order = req.order ?? 'parallel';
    const driveUntil = req.drive ? now + triesHeldFor(branches, order, this.deps.options.callTimeoutMs) : undefined;
    const tx = newTxRecord({ xid, timeoutMs, order, metaJson, now, trace, dtmJson, ...(driveUntil !== undefined ? { driveUntil } : {}) });
    const inserted = await this.deps.log.apply(insertTransactionWrite, { tx, branches });
    if (!inserted.created) {
      const existing = inserted.existing;
      if (existing.status !== 'trying') throw new TxExistsError(xid, existing.status, `it is ${existing.status}`);
      if (existing.mode !== 'tcc') throw new TxExistsError(xid, existing.status, `it is a ${existing.mode}`);
      if (existing.timeoutMs !== timeoutMs || existing.metaJson !== metaJson || existing.order !== tx.order || existing.dtmJson !== dtmJson) {
        throw new TxExistsError(xid, existing.status, 'with other settings');
      }
      if (!req.branches) return { created: false, view: beginView(existing) };
      const stored = await this.deps.log.read((db) => readBranches(db, xid));
      const byId = new Map(stored.map((b) => [b.branchId, b]));
      if (!branches.every((b) => byId.has(b.branchId) && sameRegistration(byId.get(b.branchId)!, b))) {
        throw new TxExistsError(xid, existing.status, 'with other branches');
      }
      return { created: false, view: req.drive ? await repeatDriven(this.#driven, existing, stored, req.wait ?? true) : drivenView(existing, stored) };
    }
    if (!req.drive) return { created: true, view: req.branches ? drivenView(tx, branches) : beginView(tx) };
    return { created: true, view: await runDriven(this.#driven, tx, branches, req.wait ?? true) };
  }

  /** Register; `emptyUrlMeansNoCall` for a branch of a transaction begun through the DTM surface (DTM's rule). */
  async register(xid: string, req: RegisterBranchRequest, emptyUrlMeansNoCall = false): Promise<Created<{ xid: string; branchId: string; status: 'registered' }>> {
    const now = this.#now();
    const record = branchRecord(xid, req, 0, now, { ...this.deps.options, emptyUrlMeansNoCall });
    const { created } = await this.deps.log.apply(insertBranchWrite, record);
    return { created, view: { xid, branchId: req.branchId, status: 'registered' } };
  }

  async tryResult(xid: string, branchId: string, body: TryReportBody): Promise<{ xid: string; branchId: string; status: 'tried' | 'try_failed' }> {
    const now = this.#now();
    await this.deps.log.apply(recordTryReportWrite, { xid, now, ...tryOutcome(branchId, body) });
    return { xid, branchId, status: body.ok ? 'tried' : 'try_failed' };
  }

  /**
   * Commit or rollback: decide once, then drive phase 2 here (or wait for it, with `wait`).
   * A commit's `tryResults` are recorded in the decision's write, as try-result calls would be.
   */
  async decide(xid: string, verb: Verb, opts: DecideRequest): Promise<DecisionView> {
    const now = this.#now();
    const leaseMs = this.deps.options.phase2LeaseMs;
    const d =
      verb === 'commit'
        ? await this.deps.log.apply(commitWrite, { xid, now, leaseMs, tries: [], reports: Object.entries(opts.tryResults ?? {}).map(([b, r]) => tryOutcome(b, r)) })
        : await this.deps.log.write((trx) => decide(trx, xid, verb, opts.reason, now, leaseMs));
    if (!d.won && d.sagaCommit) throw new InvalidRequestError('a saga commits itself when its last step is done', [{ path: '/commit', message: `transaction ${xid} is a saga` }]);
    // a label from a fixed set: d.reason names a branch, and client-chosen labels would grow without bound
    if (d.won) {
      // a message's decision names its mode; else only a rollback may be a saga's (a commit request on one is refused above): read its mode then
      const mode = d.mode ?? (verb === 'commit' ? 'tcc' : ((await this.deps.log.read((db) => readTx(db, xid)))?.mode ?? 'tcc'));
      this.deps.metrics.decisions.inc({ decision: d.decided, reason: verb === d.decided ? 'requested' : d.reason === 'timeout' ? 'timeout' : 'try failed', mode });
      this.deps.logger?.info({ xid, decision: d.decided, reason: d.reason, requested: verb }, 'decision');
      if (d.status === 'rolled_back') this.deps.metrics.finished.inc({ status: 'rolled_back' });
    }
    let status = d.status;
    // a message rolled back is final at once: no round to run
    const running = d.won && isDecided(d.status) ? this.#rounds.start(xid) : this.#rounds.running(xid);
    if (d.refused && verb === 'commit') throw new TxRolledBackError(xid, status, d.reason);
    if (d.refused) throw new TxCommittedError(xid, status);
    const waitMs = opts.wait === true ? WAIT_TRUE_MS : typeof opts.wait === 'number' ? opts.wait : 0;
    // `true` waits for this phase-2 round, like driven mode; a number of ms also waits across retry rounds
    if (waitMs > 0 && !isFinal(status)) status = await this.#rounds.waitForFinal(xid, status, running, this.#now() + waitMs, typeof opts.wait === 'number');
    return { xid, status };
  }

  /** Recovery of one transaction in this process: the in-process sweeper's, or an operator's retry. */
  recover(xid: string): Promise<TxStatus | null> {
    return this.#rounds.recover(xid);
  }

  async get(xid: string): Promise<TxView> {
    return (await this.getWithTrace(xid)).view;
  }

  /** The transaction and the trace id its callbacks carry (sent as a response header). */
  async getWithTrace(xid: string): Promise<{ view: TxView; traceId: string | null }> {
    const found = await this.deps.log.read((db) => readTxWithBranches(db, xid));
    if (!found) throw new TxNotFoundError(xid);
    return { view: txView(found.tx, found.branches), traceId: traceIdOf(found.tx) };
  }

  /** The attempt history, oldest first; TX_NOT_FOUND for an unknown xid. */
  async attempts(xid: string): Promise<{ items: AttemptView[] }> {
    const items = await this.deps.log.read((db) => readAttempts(db, xid));
    if (items.length === 0 && !(await this.deps.log.read((db) => readTx(db, xid)))) throw new TxNotFoundError(xid);
    return { items: items.map(attemptView) };
  }

  async list(q: { status?: TxStatus; mode?: TxMode; stuck?: boolean; limit?: number; cursor?: string }): Promise<{ items: TxSummary[]; nextCursor: string | null }> {
    const limit = q.limit ?? 50;
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const page = await this.deps.log.read((db) => listTransactions(db, { status: q.status, mode: q.mode, stuck: q.stuck, limit, after }));
    const last = page.items.at(-1);
    return { items: page.items.map(txSummary), nextCursor: page.more && last ? encodeCursor(last) : null };
  }

  /** Operator retry: make it due now and drive it here (or on the workers, with Redis); `retried` false when it is not decided and unfinished. */
  async retry(xid: string): Promise<DecisionView & { retried: boolean }> {
    const now = this.#now();
    const due = await this.deps.log.write((trx) => requestRetry(trx, xid, now));
    const tx = await this.deps.log.read((db) => readTx(db, xid));
    if (!tx) throw new TxNotFoundError(xid);
    if (!due) return { xid, status: tx.status, retried: false };
    if (this.deps.enqueueRecovery) await this.deps.enqueueRecovery(xid);
    else void this.recover(xid);
    return { xid, status: tx.status, retried: true };
  }

  /** Operator abandon (DTM's forceStop, when allowed): ends it with no call, `reason` kept; false when it was already finished. */
  async abandon(xid: string, reason: string): Promise<boolean> {
    const now = this.#now();
    const done = await this.deps.log.write((trx) => abandonTransaction(trx, xid, reason, now));
    if (done) this.deps.logger?.warn({ xid, reason }, 'abandoned by operator');
    return done;
  }

  /** Operator retry in bulk: decided transactions due later than `laterThan` become due now, up to `limit`. */
  retryDueLater(laterThan: number, limit: number): Promise<{ moved: number; more: boolean }> {
    const now = this.#now();
    return this.deps.log.write((trx) => retryDueLater(trx, { laterThan, limit, now }));
  }

  /** Waits for this process's phase-2 rounds, at most `timeoutMs`; what is left is recovery's. */
  drain(timeoutMs: number): Promise<void> {
    return this.#rounds.drain(timeoutMs);
  }
}

export function encodeCursor(t: TxRecord): string {
  return Buffer.from(`${t.createdAt}:${t.xid}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: number; xid: string } {
  const text = Buffer.from(cursor, 'base64url').toString();
  const m = /^(\d{1,16}):([A-Za-z0-9._:-]{1,128})$/.exec(text);
  if (!m) throw new InvalidRequestError('cursor is not one this API gave out', [{ path: '/cursor', message: 'invalid cursor' }]);
  return { createdAt: Number(m[1]), xid: m[2]! };
}
