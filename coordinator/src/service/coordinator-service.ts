import { newXid, type BeginRequest, type RegisterBranchRequest, type TxStatus, type TxSummary, type TxView } from '@dtx/protocol';
import { setTimeout as sleep } from 'node:timers/promises';
import { LIMITS, type ResolvedOptions } from '../config/options.js';
import { canonicalJson } from '../core/canonical-json.js';
import { isFinal, type Verb } from '../core/transitions.js';
import { InvalidRequestError, PayloadTooLargeError, TxCommittedError, TxExistsError, TxNotFoundError, TxRolledBackError } from '../errors.js';
import { listTransactions } from '../log/queries/listTransactions.js';
import { readBranches, readTx, readTxWithBranches } from '../log/queries/readTransaction.js';
import type { BranchRecord, TxRecord } from '../log/records.js';
import type { TransactionLog } from '../log/transaction-log.js';
import { insertBranches, sameRegistration } from '../log/transitions/insertBranch.js';
import { insertTransactions } from '../log/transitions/insertTransaction.js';
import { recordTryReports } from '../log/transitions/recordTryResult.js';
import { requestRetry } from '../log/transitions/requestRetry.js';
import type { Metrics } from '../metrics.js';
import type { ParticipantCaller } from '../phase2/participant-caller.js';
import { runPhase2, type Phase2Deps } from '../phase2/run-phase2.js';
import { recoverTransaction } from '../recovery/recover-transaction.js';
import { branchRecord } from './branch-input.js';
import { commitDecision, decide } from './decide.js';
import { runDriven } from './driven.js';
import { beginView, drivenView, txSummary, txView } from './views.js';
import { settleWithin } from '../settle-within.js';

/** Longest a `"wait": true` request waits for phase 2. */
const WAIT_TRUE_MS = 30_000;
/** How often a waiting request re-reads a transaction that no round of this process is driving. */
const WAIT_POLL_MS = 50;

export interface ServiceDeps {
  log: TransactionLog;
  caller: ParticipantCaller;
  options: ResolvedOptions;
  metrics: Metrics;
  now?: () => number;
  /** With Redis: hand a transaction to the workers instead of driving it here. */
  enqueueRecovery?: (xid: string) => Promise<void>;
}

export type Answer<T> = { code: 200 | 201 | 202; body: T };

/** The coordinator's use cases, one method per API operation; HTTP lives in http/. */
export class CoordinatorService {
  readonly now: () => number;
  /**
   * Phase-2 rounds running in this process, by xid, so shutdown can drain them and `wait`
   * can join them; null when a recovery found nothing to drive (another process holds it).
   */
  readonly #inFlight = new Map<string, Promise<TxStatus | null>>();

  constructor(private readonly deps: ServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  get phase2Deps(): Phase2Deps {
    return { log: this.deps.log, caller: this.deps.caller, options: this.deps.options, now: this.now, metrics: this.deps.metrics };
  }

  async begin(req: BeginRequest): Promise<Answer<unknown>> {
    const now = this.now();
    const xid = req.xid ?? newXid(now);
    const timeoutMs = req.timeoutMs ?? LIMITS.defaultTimeoutMs;
    const metaJson = req.meta === undefined ? null : canonicalJson(req.meta);
    if (metaJson !== null && Buffer.byteLength(metaJson) > LIMITS.metaBytes) throw new PayloadTooLargeError('meta', LIMITS.metaBytes);
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
    const deadline = now + timeoutMs;
    const tx: TxRecord = {
      xid,
      status: 'trying',
      stuck: false,
      reason: null,
      timeoutMs,
      order: req.order ?? 'parallel',
      attempts: 0,
      nextRetryAt: deadline, // recovery rolls it back if it is still trying then
      lastError: null,
      metaJson,
      createdAt: now,
      updatedAt: now,
      deadline,
      finishedAt: null,
    };
    const inserted = await this.deps.log.apply(insertTransactions, { tx, branches });
    if (!inserted.created) {
      const existing = inserted.existing;
      if (existing.status !== 'trying') throw new TxExistsError(xid, existing.status, `it is ${existing.status}`);
      if (existing.timeoutMs !== timeoutMs || existing.metaJson !== metaJson || existing.order !== tx.order) {
        throw new TxExistsError(xid, existing.status, 'with other settings');
      }
      if (!req.branches) return { code: 200, body: beginView(existing) };
      const stored = await this.deps.log.read((db) => readBranches(db, xid));
      const byId = new Map(stored.map((b) => [b.branchId, b]));
      if (!branches.every((b) => byId.has(b.branchId) && sameRegistration(byId.get(b.branchId)!, b))) {
        throw new TxExistsError(xid, existing.status, 'with other branches');
      }
      return { code: 200, body: drivenView(existing, stored) };
    }
    if (!req.drive) return { code: 201, body: req.branches ? drivenView(tx, branches) : beginView(tx) };
    const outcome = await runDriven(this, tx, branches, req.wait ?? true);
    return { code: 201, body: outcome };
  }

  async register(xid: string, req: RegisterBranchRequest): Promise<Answer<unknown>> {
    const now = this.now();
    const record = branchRecord(xid, req, 0, now, this.deps.options);
    const { created } = await this.deps.log.apply(insertBranches, record);
    return { code: created ? 201 : 200, body: { xid, branchId: req.branchId, status: 'registered' } };
  }

  async tryResult(xid: string, branchId: string, body: { ok: boolean; result?: unknown; error?: string }): Promise<Answer<unknown>> {
    const now = this.now();
    const resultJson = body.ok && body.result !== undefined ? canonicalJson(body.result) : null;
    if (resultJson !== null && Buffer.byteLength(resultJson) > LIMITS.payloadBytes) throw new PayloadTooLargeError('try result', LIMITS.payloadBytes);
    await this.deps.log.apply(recordTryReports, { xid, branchId, ok: body.ok, resultJson, error: body.ok ? null : (body.error ?? 'try failed'), now });
    return { code: 200, body: { xid, branchId, status: body.ok ? 'tried' : 'try_failed' } };
  }

  /** Commit or rollback: decide once, then drive phase 2 here (or wait for it, with `wait`). */
  async decide(xid: string, verb: Verb, opts: { wait?: boolean | number; reason?: string }): Promise<Answer<{ xid: string; status: TxStatus }>> {
    const now = this.now();
    const leaseMs = this.deps.options.phase2LeaseMs;
    const d =
      verb === 'commit'
        ? await this.deps.log.apply(commitDecision, { xid, now, leaseMs, tries: [] })
        : await this.deps.log.write((trx) => decide(trx, xid, verb, opts.reason, now, leaseMs));
    // a label from a fixed set: d.reason names a branch, and client-chosen labels would grow without bound
    if (d.won) this.deps.metrics.decisions.inc({ decision: d.decided!, reason: verb === d.decided ? 'requested' : d.reason === 'timeout' ? 'timeout' : 'try failed' });
    let status = d.status;
    const running = d.won ? this.startPhase2(xid) : this.#inFlight.get(xid);
    if (d.refused && verb === 'commit') throw new TxRolledBackError(xid, status, d.reason ?? null);
    if (d.refused) throw new TxCommittedError(xid, status);
    const waitMs = opts.wait === true ? WAIT_TRUE_MS : typeof opts.wait === 'number' ? opts.wait : 0;
    // `true` waits for this phase-2 round, like driven mode; a number of ms also waits across retry rounds
    if (waitMs > 0 && !isFinal(status)) status = await this.#waitForFinal(xid, status, running, this.now() + waitMs, typeof opts.wait === 'number');
    return { code: isFinal(status) ? 200 : 202, body: { xid, status } };
  }

  /**
   * `wait`: until the transaction is final or time is up. Joins the rounds this
   * process runs (first, then recovery's); across rounds it otherwise re-reads the
   * log, since another process (or a later sweep) may be the one that finishes it.
   */
  async #waitForFinal(xid: string, status: TxStatus, running: Promise<TxStatus | null> | undefined, until: number, acrossRounds: boolean): Promise<TxStatus> {
    let round = running;
    if (!round && !acrossRounds) return status;
    for (;;) {
      const left = until - this.now();
      if (left <= 0) return status;
      if (round) {
        const settled = await settleWithin(round.then((s) => s, () => null), left, 'time up' as const);
        if (settled === 'time up') return status;
        if (settled) status = settled;
      } else {
        await sleep(Math.min(WAIT_POLL_MS, left), undefined, { ref: false });
        const tx = await this.deps.log.read((db) => readTx(db, xid));
        if (tx) status = tx.status;
      }
      if (isFinal(status) || !acrossRounds) return status;
      const next = this.#inFlight.get(xid);
      round = next !== round ? next : undefined;
    }
  }

  /** Drives phase 2 of a transaction just decided by this process; errors are left to recovery. */
  startPhase2(xid: string): Promise<TxStatus> {
    const run = (async () => {
      const found = await this.deps.log.read((db) => readTxWithBranches(db, xid));
      if (!found) throw new TxNotFoundError(xid);
      return this.runPhase2Known(found.tx, found.branches);
    })();
    return this.track(xid, run);
  }

  runPhase2Known(tx: TxRecord, branches: BranchRecord[]): Promise<TxStatus> {
    if (tx.status !== 'committing' && tx.status !== 'rolling_back') return Promise.resolve(tx.status);
    return runPhase2(this.phase2Deps, { xid: tx.xid, status: tx.status, order: tx.order, attempts: tx.attempts }, branches);
  }

  /** Recovery of one transaction in this process: the in-process sweeper's, or an operator's retry. */
  recover(xid: string): Promise<TxStatus | null> {
    return this.track(xid, recoverTransaction({ ...this.phase2Deps, leaseMs: this.deps.options.phase2LeaseMs }, xid));
  }

  track<S extends TxStatus | null>(xid: string, run: Promise<S>): Promise<S> {
    const tracked = run.finally(() => {
      if (this.#inFlight.get(xid) === tracked) this.#inFlight.delete(xid);
    });
    tracked.catch(() => {}); // recovery finishes what failed here
    this.#inFlight.set(xid, tracked);
    return tracked;
  }

  async get(xid: string): Promise<TxView> {
    const found = await this.deps.log.read((db) => readTxWithBranches(db, xid));
    if (!found) throw new TxNotFoundError(xid);
    return txView(found.tx, found.branches);
  }

  async list(q: { status?: TxStatus; stuck?: boolean; limit?: number; cursor?: string }): Promise<{ items: TxSummary[]; nextCursor: string | null }> {
    const limit = q.limit ?? 50;
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const page = await this.deps.log.read((db) => listTransactions(db, { status: q.status, stuck: q.stuck, limit, after }));
    const last = page.items.at(-1);
    return { items: page.items.map(txSummary), nextCursor: page.more && last ? encodeCursor(last) : null };
  }

  /** Operator retry: make it due now and drive it here (or on the workers, with Redis). */
  async retry(xid: string): Promise<Answer<{ xid: string; status: TxStatus }>> {
    const now = this.now();
    const due = await this.deps.log.write((trx) => requestRetry(trx, xid, now));
    const tx = await this.deps.log.read((db) => readTx(db, xid));
    if (!tx) throw new TxNotFoundError(xid);
    if (!due) return { code: 200, body: { xid, status: tx.status } };
    if (this.deps.enqueueRecovery) await this.deps.enqueueRecovery(xid);
    else void this.recover(xid);
    return { code: 202, body: { xid, status: tx.status } };
  }

  /** Waits for this process's phase-2 rounds, at most `timeoutMs`; what is left is recovery's. */
  async drain(timeoutMs: number): Promise<void> {
    const all = Promise.allSettled([...this.#inFlight.values()]);
    await settleWithin(all, timeoutMs, undefined);
  }

  get options(): ResolvedOptions {
    return this.deps.options;
  }
  get log(): TransactionLog {
    return this.deps.log;
  }
  get metrics(): Metrics {
    return this.deps.metrics;
  }
  get caller(): ParticipantCaller {
    return this.deps.caller;
  }
}

function encodeCursor(t: TxRecord): string {
  return Buffer.from(`${t.createdAt}:${t.xid}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; xid: string } {
  const text = Buffer.from(cursor, 'base64url').toString();
  const m = /^(\d{1,16}):([A-Za-z0-9._:-]{1,128})$/.exec(text);
  if (!m) throw new InvalidRequestError('cursor is not one this API gave out', [{ path: '/cursor', message: 'invalid cursor' }]);
  return { createdAt: Number(m[1]), xid: m[2]! };
}
