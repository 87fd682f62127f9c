import type { FastifyInstance } from 'fastify';
import { resolveOptions, type CoordinatorOptions, type ResolvedOptions } from './config/options.js';
import { toError } from './errors.js';
import { buildDtmServer } from './dtm/server.js';
import { buildServer } from './http/server.js';
import { Pruner } from './log/pruner.js';
import { countStuck } from './log/queries/countStuck.js';
import { findDue } from './log/queries/findDue.js';
import type { DtxLogger } from './logger.js';
import { TransactionLog } from './log/transaction-log.js';
import { Metrics } from './metrics.js';
import { HttpParticipantCaller } from './phase2/participant-caller.js';
import { RecoveryQueue } from './recovery/bullmq/recovery-queue.js';
import { redisTargetFromUrl } from './recovery/bullmq/redis.js';
import { Sweeper } from './recovery/sweeper.js';
import { CoordinatorService } from './service/coordinator-service.js';
import { settleWithin } from './settle-within.js';

export interface Coordinator {
  readonly options: ResolvedOptions;
  /** `http://host:port` once started. */
  readonly url: string;
  /** `http://host:port` of the DTM-compatible surface once started; '' when `dtmPort` is unset. */
  readonly dtmUrl: string;
  start(): Promise<void>;
  /** Stops taking requests, lets in-flight phase 2 finish for up to `timeoutMs` (the rest is recovery's), closes pools. */
  close(opts?: { timeoutMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The coordinator service: the HTTP API on the log, with in-process recovery unless Redis takes it. */
export function createCoordinator(options: CoordinatorOptions = {}): Coordinator {
  const resolved = resolveOptions(options);
  let app: FastifyInstance | null = null;
  let dtmApp: FastifyInstance | null = null;
  let log: TransactionLog | null = null;
  let caller: HttpParticipantCaller | null = null;
  let sweeper: Sweeper | null = null;
  let pruner: Pruner | null = null;
  let service: CoordinatorService | null = null;
  let queue: RecoveryQueue | null = null;
  let url = '';
  let dtmUrl = '';

  const close = async ({ timeoutMs = 10_000 } = {}): Promise<void> => {
    await sweeper?.close();
    await pruner?.close();
    await app?.close();
    await dtmApp?.close();
    await service?.drain(timeoutMs);
    await caller?.close();
    await log?.close();
    await settleWithin(queue?.close().catch(() => {}) ?? Promise.resolve(), 2000, undefined);
    queue = null;
    app = null;
    dtmApp = null;
    sweeper = null;
    pruner = null;
    log = null;
    caller = null;
  };

  return {
    options: resolved,
    get url() {
      return url;
    },
    get dtmUrl() {
      return dtmUrl;
    },
    async start() {
      try {
        log = await TransactionLog.open(resolved.databaseUrl);
        caller = new HttpParticipantCaller(resolved.signingSecret);
        const l0 = log;
        const metrics = new Metrics(() => log?.batcher ?? { commits: 0, replays: 0 }, () => l0.read(countStuck));
        let enqueueRecovery: ((xid: string) => Promise<void>) | undefined;
        if (resolved.redisUrl) {
          // recovery is the workers' (dtx worker); this process only hands them operator retries
          const q = new RecoveryQueue(redisTargetFromUrl(resolved.redisUrl), resolved.queuePrefix, (err) => app?.log.warn({ err }, 'recovery queue: Redis error'));
          queue = q;
          enqueueRecovery = async (xid) => {
            if (!(await q.enqueueNow(xid, Date.now()))) app?.log.warn({ xid }, 'Redis did not take the retry; the next sweep will');
          };
        }
        // the service exists before the server whose logger (pino) it writes to
        const logger: DtxLogger = { info: (f, m) => app?.log.info(f, m), warn: (f, m) => app?.log.warn(f, m) };
        service = new CoordinatorService({ log, caller, options: resolved, metrics, logger, enqueueRecovery });
        const l = log;
        app = await buildServer({ service, ping: () => l.ping(), metrics }, resolved);
        await app.listen({ host: resolved.host, port: resolved.port });
        url = listeningUrl(app);
        if (resolved.dtmPort !== undefined) {
          dtmApp = await buildDtmServer({ service, log, options: resolved });
          // on `localhost` fastify binds each address it resolves to (IPv4 and IPv6), as DTM's samples expect
          await dtmApp.listen({ host: resolved.host, port: resolved.dtmPort });
          dtmUrl = listeningUrl(dtmApp);
        }
        if (resolved.recovery && !resolved.redisUrl) {
          const svc = service;
          sweeper = new Sweeper({
            findDue: async (limit) => (await l.read((db) => findDue(db, Date.now(), limit))).map((due) => due.xid),
            recover: (xid) => svc.recover(xid),
            intervalMs: resolved.sweepIntervalMs,
            concurrency: resolved.workerConcurrency,
            batchSize: resolved.sweepBatchSize,
            onError: (err) => app?.log.warn({ err: toError(err) }, 'recovery sweep failed'),
          });
          sweeper.start();
        }
        if (resolved.retentionMs > 0) {
          pruner = new Pruner({ log: l, retentionMs: resolved.retentionMs, onError: (err) => app?.log.warn({ err }, 'pruning finished transactions failed') });
          pruner.start();
        }
      } catch (err) {
        await close({ timeoutMs: 0 }).catch(() => {});
        throw err;
      }
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

function listeningUrl(app: FastifyInstance): string {
  const addr = app.server.address();
  return typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : '';
}
