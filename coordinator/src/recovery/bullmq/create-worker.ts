import { resolveOptions, type CoordinatorOptions, type ResolvedOptions } from '../../config/options.js';
import { ConfigError, toError } from '../../errors.js';
import { findDue } from '../../log/queries/findDue.js';
import type { DtxLogger } from '../../logger.js';
import { TransactionLog } from '../../log/transaction-log.js';
import { HttpParticipantCaller } from '../../phase2/participant-caller.js';
import { settleWithin } from '../../settle-within.js';
import { CircuitBreakingCaller } from '../circuit-caller.js';
import { OriginCircuits } from '../origin-circuit.js';
import { recoverTransaction } from '../recover-transaction.js';
import { redactUrl, WorkerStartError } from './errors.js';
import { RecoveryQueue } from './recovery-queue.js';
import { RecoveryWorker, type RecoveryWorkerStats } from './recovery-worker.js';
import { probeRedis, redisTargetFromUrl } from './redis.js';
import { sweepDueWork } from './sweep.js';
import { SweepSchedule } from './sweep-schedule.js';

export interface RecoveryWorkerProcess {
  readonly options: ResolvedOptions;
  readonly stats: RecoveryWorkerStats & { heldBackByCircuit: number };
  /** Checks the database and Redis answer (a WorkerStartError if not), then takes jobs. */
  start(): Promise<void>;
  /** Finishes in-flight jobs for up to `timeoutMs`, hands back the rest, closes every connection. */
  close(opts?: { timeoutMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface WorkerHooks {
  /** Errors after start (a job that threw, Redis or the database down): logged, never fatal. */
  onError?(context: string, err: Error): void;
  onNotice?(message: string): void;
  /** Decisions and failed participant calls, one structured line each. */
  logger?: DtxLogger;
}

/** `dtx worker`: drives due transactions from the BullMQ queue with the coordinator's own recovery code. */
export function createRecoveryWorker(options: CoordinatorOptions, hooks: WorkerHooks = {}): RecoveryWorkerProcess {
  const resolved = resolveOptions(options);
  const onError = (context: string, err: Error) => hooks.onError?.(context, err);
  let log: TransactionLog | null = null;
  let caller: CircuitBreakingCaller | null = null;
  let queue: RecoveryQueue | null = null;
  let schedule: SweepSchedule | null = null;
  let worker: RecoveryWorker | null = null;
  let stats: RecoveryWorkerStats = { jobs: 0, driven: 0, finished: 0, skipped: 0, failed: 0, sweeps: 0 };
  let heldBack = () => 0;

  const close = async ({ timeoutMs = 10_000 } = {}): Promise<void> => {
    await worker?.close({ timeoutMs });
    const bounded = (p: Promise<unknown> | undefined) => settleWithin(p?.catch(() => {}) ?? Promise.resolve(), 2000, undefined);
    await bounded(queue?.close());
    await bounded(schedule?.close());
    await caller?.close();
    await log?.close();
    worker = null;
    queue = null;
    schedule = null;
    caller = null;
    log = null;
  };

  return {
    options: resolved,
    get stats() {
      return { ...stats, heldBackByCircuit: heldBack() };
    },
    async start() {
      const redisUrl = resolved.redisUrl;
      if (!redisUrl) throw new ConfigError('DTX_REDIS_URL', 'is required by dtx worker (redis://host:port)');
      try {
        await probeRedis(redisUrl);
      } catch (err) {
        throw new WorkerStartError('REDIS_UNREACHABLE', redactUrl(redisUrl), err);
      }
      try {
        log = await TransactionLog.open(resolved.databaseUrl);
        await log.ping();
      } catch (err) {
        await log?.close().catch(() => {});
        log = null;
        throw new WorkerStartError('DATABASE_UNREACHABLE', redactUrl(resolved.databaseUrl), err);
      }
      try {
        const l = log;
        const circuits = new OriginCircuits({
          failureThreshold: resolved.circuitFailureThreshold,
          openMs: resolved.circuitOpenMs,
          maxOpenMs: Math.max(resolved.circuitOpenMs, resolved.retryMaxMs),
          probeWaitMs: resolved.callTimeoutMs,
        });
        const c = new CircuitBreakingCaller(new HttpParticipantCaller(resolved.signingSecret), circuits);
        caller = c;
        heldBack = () => c.heldBack;
        const connection = redisTargetFromUrl(redisUrl);
        const q = new RecoveryQueue(connection, resolved.queuePrefix, (err) => onError('redis', err));
        queue = q;
        const s = new SweepSchedule(connection, resolved.queuePrefix, resolved.sweepIntervalMs, (err) => onError('redis', err));
        schedule = s;
        const recoveryDeps = { log: l, caller: c, options: resolved, now: Date.now, leaseMs: resolved.phase2LeaseMs, logger: hooks.logger };
        worker = new RecoveryWorker({
          connection,
          prefix: resolved.queuePrefix,
          concurrency: resolved.workerConcurrency,
          recover: (xid) => recoverTransaction(recoveryDeps, xid),
          sweep: (running) =>
            sweepDueWork({
              findDue: (now, limit) => l.read((db) => findDue(db, now, limit)),
              enqueue: (work) => q.enqueue(work),
              now: Date.now,
              limit: resolved.sweepBatchSize,
              waiting: () => q.waiting(),
              refillWaitMs: resolved.sweepIntervalMs,
              running,
            }),
          ensureSchedule: () => s.ensure(),
          ensureEveryMs: Math.min(30_000, Math.max(1000, 5 * resolved.sweepIntervalMs)),
          onError,
          onNotice: (m) => hooks.onNotice?.(m),
        });
        stats = worker.stats;
        await s.upsert();
        worker.start();
      } catch (err) {
        await close({ timeoutMs: 0 }).catch(() => {});
        throw toError(err);
      }
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
