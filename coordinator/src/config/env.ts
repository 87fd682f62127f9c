import { ConfigError } from '../errors.js';
import { isClusterUrl, redisTargetFromUrl } from '../recovery/bullmq/redis.js';
import type { CoordinatorOptions } from './options.js';

/** The one place that reads the environment. Malformed values stop the process; unknown DTX_* names are warned about (a typo is the usual cause). */
const KNOWN = new Set([
  'DTX_PORT',
  'DTX_HOST',
  'DTX_DATABASE_URL',
  'DTX_API_TOKENS',
  'DTX_SIGNING_SECRET',
  'DTX_ALLOWED_ORIGINS',
  'DTX_RETRY_BASE_MS',
  'DTX_RETRY_MAX_MS',
  'DTX_CALL_TIMEOUT_MS',
  'DTX_PHASE2_LEASE_MS',
  'DTX_SWEEP_INTERVAL_MS',
  'DTX_STUCK_AFTER_ATTEMPTS',
  'DTX_REDIS_URL',
  'DTX_QUEUE_PREFIX',
  'DTX_WORKER_CONCURRENCY',
  'DTX_SWEEP_BATCH_SIZE',
  'DTX_CIRCUIT_FAILURES',
  'DTX_CIRCUIT_OPEN_MS',
  'DTX_RETENTION_MS',
  'DTX_LOG_REQUESTS',
  'DTX_LOG_LEVEL',
  'DTX_DTM_PORT',
  'DTX_DTM_TIMEOUT_TO_FAIL_MS',
  'DTX_DTM_REQUEST_TIMEOUT_MS',
  'DTX_DTM_FORCE_STOP',
]);

/** DTX_* names this module does not read. */
export function unknownEnvNames(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.keys(env).filter((name) => name.startsWith('DTX_') && !KNOWN.has(name) && !name.startsWith('DTX_TEST_') && !name.startsWith('DTX_BENCH_'));
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): CoordinatorOptions {
  return {
    port: int(env, 'DTX_PORT', 0, 65535),
    host: str(env, 'DTX_HOST'),
    databaseUrl: databaseUrl(env),
    apiTokens: list(env, 'DTX_API_TOKENS'),
    signingSecret: str(env, 'DTX_SIGNING_SECRET'),
    allowedOrigins: list(env, 'DTX_ALLOWED_ORIGINS'),
    retryBaseMs: int(env, 'DTX_RETRY_BASE_MS', 1),
    retryMaxMs: int(env, 'DTX_RETRY_MAX_MS', 1),
    callTimeoutMs: int(env, 'DTX_CALL_TIMEOUT_MS', 1),
    phase2LeaseMs: int(env, 'DTX_PHASE2_LEASE_MS', 1),
    sweepIntervalMs: int(env, 'DTX_SWEEP_INTERVAL_MS', 1),
    stuckAfterAttempts: int(env, 'DTX_STUCK_AFTER_ATTEMPTS', 1),
    redisUrl: redisUrl(env),
    queuePrefix: str(env, 'DTX_QUEUE_PREFIX'),
    workerConcurrency: int(env, 'DTX_WORKER_CONCURRENCY', 1, 10_000),
    sweepBatchSize: int(env, 'DTX_SWEEP_BATCH_SIZE', 1, 100_000),
    circuitFailureThreshold: int(env, 'DTX_CIRCUIT_FAILURES', 1),
    circuitOpenMs: int(env, 'DTX_CIRCUIT_OPEN_MS', 1),
    retentionMs: int(env, 'DTX_RETENTION_MS', 0),
    logRequests: bool(env, 'DTX_LOG_REQUESTS'),
    logLevel: str(env, 'DTX_LOG_LEVEL') as CoordinatorOptions['logLevel'],
    dtmPort: int(env, 'DTX_DTM_PORT', 0, 65535),
    dtmTimeoutToFailMs: int(env, 'DTX_DTM_TIMEOUT_TO_FAIL_MS', 1),
    dtmRequestTimeoutMs: int(env, 'DTX_DTM_REQUEST_TIMEOUT_MS', 1),
    dtmForceStop: str(env, 'DTX_DTM_FORCE_STOP') as CoordinatorOptions['dtmForceStop'],
  };
}

function str(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  if (v.trim() === '') throw new ConfigError(name, 'is set but empty');
  return v.trim();
}

function int(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = str(env, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new ConfigError(name, `must be a whole number, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function list(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const v = str(env, name);
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new ConfigError(name, 'has an empty item');
  return items;
}

function bool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const v = str(env, name);
  if (v === undefined) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(name, `must be true or false, got "${v}"`);
}

function databaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const v = str(env, 'DTX_DATABASE_URL');
  if (v === undefined) return undefined;
  if (v.startsWith('sqlite:')) {
    if (v.length === 'sqlite:'.length) throw new ConfigError('DTX_DATABASE_URL', 'sqlite: needs a path or :memory:');
    return v;
  }
  try {
    const u = new URL(v);
    if (!['mysql:', 'postgres:', 'postgresql:'].includes(u.protocol)) throw new Error();
    if (u.pathname.length <= 1) throw new ConfigError('DTX_DATABASE_URL', `a ${u.protocol}// URL needs a database name`);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError('DTX_DATABASE_URL', `must be sqlite:<path>, mysql://user:pass@host:port/db or postgres://user:pass@host:port/db, got "${v}"`);
  }
  return v;
}

function redisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const v = str(env, 'DTX_REDIS_URL');
  if (v === undefined) return undefined;
  try {
    if (isClusterUrl(v)) redisTargetFromUrl(v);
    else if (!['redis:', 'rediss:'].includes(new URL(v).protocol)) throw new Error();
  } catch {
    throw new ConfigError('DTX_REDIS_URL', `must be redis://host:port or, for a Redis Cluster, redis+cluster://host:port,host:port,…, got "${v}"`);
  }
  return v;
}
