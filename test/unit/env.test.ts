import { describe, expect, test } from 'vitest';
import { optionsFromEnv, unknownEnvNames } from '../../coordinator/src/config/env.js';
import { resolveOptions } from '../../coordinator/src/config/options.js';
import { redisTargetFromUrl } from '../../coordinator/src/recovery/bullmq/redis.js';

describe('configuration from the environment', () => {
  test('defaults with nothing set', () => {
    const o = resolveOptions(optionsFromEnv({}));
    expect(o).toMatchObject({ port: 8700, host: '127.0.0.1', databaseUrl: 'sqlite:./.dtx/dtx.db', retryBaseMs: 1000, retryMaxMs: 60_000, callTimeoutMs: 5000, phase2LeaseMs: 10_000, sweepIntervalMs: 1000, stuckAfterAttempts: 12, apiTokens: [], allowedOrigins: [] });
  });

  test('values are parsed', () => {
    const o = resolveOptions(optionsFromEnv({ DTX_PORT: '9000', DTX_API_TOKENS: 'a, b', DTX_ALLOWED_ORIGINS: 'http://wallet:4001,https://x.example', DTX_DATABASE_URL: 'mysql://root@127.0.0.1:3306/dtx' }));
    expect(o.port).toBe(9000);
    expect(o.apiTokens).toEqual(['a', 'b']);
    expect(o.allowedOrigins).toEqual(['http://wallet:4001', 'https://x.example']);
    expect(o.databaseUrl).toBe('mysql://root@127.0.0.1:3306/dtx');
  });

  test('the DTM-compatible API is off unless DTX_DTM_PORT is set; its settings are parsed', () => {
    expect(resolveOptions(optionsFromEnv({})).dtmPort).toBeUndefined();
    expect(resolveOptions(optionsFromEnv({})).dtmForceStop).toBe('refuse');
    const o = resolveOptions(optionsFromEnv({ DTX_DTM_PORT: '36789', DTX_DTM_TIMEOUT_TO_FAIL_MS: '35000', DTX_DTM_REQUEST_TIMEOUT_MS: '3000', DTX_DTM_FORCE_STOP: 'abandon' }));
    expect(o).toMatchObject({ dtmPort: 36789, dtmTimeoutToFailMs: 35_000, dtmRequestTimeoutMs: 3000, dtmForceStop: 'abandon' });
  });

  test.each(['postgres://dtx:secret@db:5432/dtx', 'postgresql://dtx@db/dtx'])('DTX_DATABASE_URL=%s is a PostgreSQL log', (url) => {
    expect(resolveOptions(optionsFromEnv({ DTX_DATABASE_URL: url })).databaseUrl).toBe(url);
  });

  test.each([
    [{ DTX_PORT: 'eighty' }, 'DTX_PORT'],
    [{ DTX_PORT: '70000' }, 'DTX_PORT'],
    [{ DTX_RETRY_BASE_MS: '-5' }, 'DTX_RETRY_BASE_MS'],
    [{ DTX_DATABASE_URL: 'redis://x/y' }, 'DTX_DATABASE_URL'],
    [{ DTX_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432' }, 'DTX_DATABASE_URL'],
    [{ DTX_DATABASE_URL: 'mysql://root@127.0.0.1:3306' }, 'DTX_DATABASE_URL'],
    [{ DTX_API_TOKENS: 'a,,b' }, 'DTX_API_TOKENS'],
    [{ DTX_SWEEP_INTERVAL_MS: '' }, 'DTX_SWEEP_INTERVAL_MS'],
    [{ DTX_REDIS_URL: 'http://x' }, 'DTX_REDIS_URL'],
    [{ DTX_REDIS_URL: 'redis+cluster://a:1,b:port' }, 'DTX_REDIS_URL'],
    [{ DTX_REDIS_URL: 'redis+cluster://a:1,b:2', DTX_QUEUE_PREFIX: 'dtx' }, 'queuePrefix'],
    [{ DTX_DTM_PORT: 'dtm' }, 'DTX_DTM_PORT'],
    [{ DTX_DTM_TIMEOUT_TO_FAIL_MS: '0' }, 'DTX_DTM_TIMEOUT_TO_FAIL_MS'],
    [{ DTX_DTM_FORCE_STOP: 'always' }, 'dtmForceStop'],
  ])('%o is refused naming %s', (env, name) => {
    expect(() => resolveOptions(optionsFromEnv(env))).toThrow(name);
  });

  test('a Redis Cluster: seeds with credentials and TLS, and a hash-tagged BullMQ prefix by default', () => {
    const o = resolveOptions(optionsFromEnv({ DTX_REDIS_URL: 'rediss+cluster://u:p%40ss@10.0.0.1:7000,[::1]:7001,h3' }));
    expect(o.queuePrefix).toBe('{dtx}');
    expect(redisTargetFromUrl(o.redisUrl!)).toMatchObject({
      cluster: true,
      seeds: [{ host: '10.0.0.1', port: 7000 }, { host: '::1', port: 7001 }, { host: 'h3', port: 6379 }],
      options: { username: 'u', password: 'p@ss', tls: {} },
    });
    expect(resolveOptions(optionsFromEnv({ DTX_REDIS_URL: 'redis+cluster://a:1', DTX_QUEUE_PREFIX: 'app{q}' })).queuePrefix).toBe('app{q}');
    expect(resolveOptions(optionsFromEnv({ DTX_REDIS_URL: 'redis://a:1' })).queuePrefix).toBe('dtx');
  });

  test('an unknown DTX_ variable is reported (a typo)', () => {
    expect(unknownEnvNames({ DTX_PROT: '1', DTX_PORT: '1', PATH: '/' })).toEqual(['DTX_PROT']);
  });
});
