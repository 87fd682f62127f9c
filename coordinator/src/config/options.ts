import { ConfigError } from '../errors.js';
import { isClusterUrl } from '../recovery/bullmq/redis.js';

export interface CoordinatorOptions {
  /** `sqlite:<path>`, `sqlite::memory:`, `mysql://user:pass@host:port/db` or `postgres://user:pass@host:port/db` (also `postgresql://`). @default 'sqlite:./.dtx/dtx.db' */
  databaseUrl?: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 8700 */
  port?: number;
  /** Bearer tokens for `/v1`; empty means open. @default [] */
  apiTokens?: string[];
  /** When set, every callback carries `dtx-signature`. */
  signingSecret?: string;
  /** `scheme://host:port` origins participant URLs must match; empty allows any. @default [] */
  allowedOrigins?: string[];
  /** @default 1000 */
  retryBaseMs?: number;
  /** @default 60000 */
  retryMaxMs?: number;
  /** Default per-call timeout to participants. @default 5000 */
  callTimeoutMs?: number;
  /** How long recovery leaves a transaction to the process driving it. @default 10000 */
  phase2LeaseMs?: number;
  /** How often recovery looks for due work. @default 1000 */
  sweepIntervalMs?: number;
  /** Failed phase-2 rounds before a transaction is flagged stuck. @default 12 */
  stuckAfterAttempts?: number;
  /** When set, recovery runs on BullMQ workers instead of in-process. */
  redisUrl?: string;
  /** Prefix of the BullMQ keys; on a Redis Cluster it must carry a hash tag. @default 'dtx', or '{dtx}' on a Redis Cluster */
  queuePrefix?: string;
  /** Transactions one `dtx worker`, or the in-process sweeper, drives at once. @default 32 */
  workerConcurrency?: number;
  /** Most due transactions one sweep takes (a full batch means a backlog: the next sweep follows at once). @default 1000 */
  sweepBatchSize?: number;
  /** Consecutive failed calls to one participant origin that open its circuit (workers only). @default 5 */
  circuitFailureThreshold?: number;
  /** How long an open circuit holds calls to its origin back; doubles while probes fail, up to retryMaxMs. @default 5000 */
  circuitOpenMs?: number;
  /** Finished transactions created longer ago than this are deleted from the log (checked every minute); 0 keeps them. @default 604800000 (7 days) */
  retentionMs?: number;
  /** Request body limit. @default 1048576 */
  bodyLimitBytes?: number;
  /**
   * How long a client has to send a whole request (headers within the smaller of this and
   * 5 s), so slow-body clients cannot hold connections; answered 400 past it. Not how long
   * an answer may take (`wait`). @default 10000
   */
  requestTimeoutMs?: number;
  /** Run the in-process recovery sweeper (when no Redis). @default true */
  recovery?: boolean;
  /** Log requests (pino). @default false */
  logRequests?: boolean;
  /** Level of the structured log (pino): `info` has a line per decision, `warn` one per failed participant call. @default 'info' */
  logLevel?: LogLevel;
  /**
   * Port of the DTM-compatible surface (`/api/dtmsvr`, docs/coming-from-dtm.md), on `host`;
   * DTM's own is 36789. 0 picks a free port. Unset: no such listener. It takes no bearer token.
   */
  dtmPort?: number;
  /** A DTM-begun TCC, XA or message transaction's `timeout_to_fail` when the client sends none (DTM's: 35 s). @default 60000 */
  dtmTimeoutToFailMs?: number;
  /** A DTM branch call's timeout when the client sends no `request_timeout` (DTM's: 3 s). @default 5000 */
  dtmRequestTimeoutMs?: number;
  /** DTM's `forceStop`: `refuse` answers 409; `abandon` ends the transaction `rolled_back` with no call, reason "abandoned by operator: …". @default 'refuse' */
  dtmForceStop?: DtmForceStop;
}

export const DTM_FORCE_STOP = ['refuse', 'abandon'] as const;
export type DtmForceStop = (typeof DTM_FORCE_STOP)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type ResolvedOptions = Required<Omit<CoordinatorOptions, 'signingSecret' | 'redisUrl' | 'dtmPort'>> &
  Pick<CoordinatorOptions, 'signingSecret' | 'redisUrl' | 'dtmPort'>;

export const DEFAULTS = {
  databaseUrl: 'sqlite:./.dtx/dtx.db',
  host: '127.0.0.1',
  port: 8700,
  apiTokens: [] as string[],
  allowedOrigins: [] as string[],
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  callTimeoutMs: 5000,
  phase2LeaseMs: 10_000,
  sweepIntervalMs: 1000,
  stuckAfterAttempts: 12,
  queuePrefix: 'dtx',
  workerConcurrency: 32,
  sweepBatchSize: 1000,
  circuitFailureThreshold: 5,
  circuitOpenMs: 5000,
  retentionMs: 7 * 86_400_000,
  bodyLimitBytes: 1024 * 1024,
  requestTimeoutMs: 10_000,
  recovery: true,
  logRequests: false,
  logLevel: 'info' as LogLevel,
  dtmTimeoutToFailMs: 60_000,
  dtmRequestTimeoutMs: 5000,
  dtmForceStop: 'refuse' as DtmForceStop,
} satisfies Partial<ResolvedOptions>;

/** Limits of PROTOCOL.md. */
export const LIMITS = {
  minTimeoutMs: 1000,
  maxTimeoutMs: 86_400_000,
  defaultTimeoutMs: 60_000,
  metaBytes: 16 * 1024,
  payloadBytes: 64 * 1024,
  maxBranches: 100,
} as const;

export function resolveOptions(options: CoordinatorOptions = {}): ResolvedOptions {
  const o = { ...DEFAULTS, ...stripUndefined(options) } as ResolvedOptions;
  positiveInt('retryBaseMs', o.retryBaseMs);
  positiveInt('retryMaxMs', o.retryMaxMs);
  positiveInt('callTimeoutMs', o.callTimeoutMs);
  positiveInt('phase2LeaseMs', o.phase2LeaseMs);
  positiveInt('sweepIntervalMs', o.sweepIntervalMs);
  positiveInt('stuckAfterAttempts', o.stuckAfterAttempts);
  positiveInt('bodyLimitBytes', o.bodyLimitBytes);
  positiveInt('requestTimeoutMs', o.requestTimeoutMs);
  positiveInt('workerConcurrency', o.workerConcurrency);
  positiveInt('sweepBatchSize', o.sweepBatchSize);
  positiveInt('circuitFailureThreshold', o.circuitFailureThreshold);
  positiveInt('circuitOpenMs', o.circuitOpenMs);
  if (!Number.isSafeInteger(o.retentionMs) || o.retentionMs < 0) throw new ConfigError('retentionMs', `must be 0 (keep) or a positive integer, got ${o.retentionMs}`);
  if (o.redisUrl && isClusterUrl(o.redisUrl)) {
    // BullMQ's scripts touch several keys of a queue at once: on a cluster they must share a slot
    if (options.queuePrefix === undefined) o.queuePrefix = '{dtx}';
    else if (!/\{[^{}]+\}/.test(o.queuePrefix)) throw new ConfigError('queuePrefix', `on a Redis Cluster must carry a hash tag, such as {dtx}, got ${o.queuePrefix}`);
  }
  if (!/^[A-Za-z0-9._{}-]{1,64}$/.test(o.queuePrefix)) throw new ConfigError('queuePrefix', `must be 1–64 of [A-Za-z0-9._{}-], got ${o.queuePrefix}`);
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new ConfigError('port', `must be 0–65535, got ${o.port}`);
  if (o.dtmPort !== undefined && (!Number.isInteger(o.dtmPort) || o.dtmPort < 0 || o.dtmPort > 65535)) throw new ConfigError('dtmPort', `must be 0–65535, got ${o.dtmPort}`);
  positiveInt('dtmTimeoutToFailMs', o.dtmTimeoutToFailMs);
  positiveInt('dtmRequestTimeoutMs', o.dtmRequestTimeoutMs);
  if (!DTM_FORCE_STOP.includes(o.dtmForceStop)) throw new ConfigError('dtmForceStop', `must be one of ${DTM_FORCE_STOP.join(', ')}, got ${o.dtmForceStop}`);
  if (!LOG_LEVELS.includes(o.logLevel)) throw new ConfigError('logLevel', `must be one of ${LOG_LEVELS.join(', ')}, got ${o.logLevel}`);
  if (o.retryMaxMs < o.retryBaseMs) throw new ConfigError('retryMaxMs', 'must be at least retryBaseMs');
  if (!/^(sqlite:|mysql:\/\/|postgres(ql)?:\/\/)/.test(o.databaseUrl)) {
    throw new ConfigError('databaseUrl', `must start with sqlite:, mysql:// or postgres://, got ${o.databaseUrl}`);
  }
  for (const origin of o.allowedOrigins) {
    if (normalizeOrigin(origin) === null) throw new ConfigError('allowedOrigins', `not a scheme://host:port origin: ${origin}`);
  }
  return { ...o, allowedOrigins: o.allowedOrigins.map((x) => normalizeOrigin(x)!) };
}

/** `http://Host:80` → `http://host`; null when not an http(s) origin. */
export function normalizeOrigin(value: string): string | null {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    if (u.pathname !== '/' || u.search || u.hash || u.username) return null;
    return u.origin;
  } catch {
    return null;
  }
}

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new ConfigError(name, `must be a positive integer, got ${v}`);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
