import { parseArgs } from 'node:util';
import { optionsFromEnv } from '../config/env.js';
import { ConfigError, toError } from '../errors.js';
import type { DtxLogger } from '../logger.js';
import { createRecoveryWorker } from '../recovery/bullmq/create-worker.js';
import { redactUrl } from '../recovery/bullmq/errors.js';

/** `dtx worker [--concurrency N]`: runs until SIGTERM/SIGINT, then drains. */
export async function worker(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { concurrency: { type: 'string', short: 'c' } } });
  const env = optionsFromEnv();
  if (env.databaseUrl === undefined) throw new ConfigError('DTX_DATABASE_URL', 'is required by dtx worker (the coordinators\' log, e.g. mysql://user:pass@host:3306/dtx or postgres://user:pass@host:5432/dtx)');
  if (env.redisUrl === undefined) throw new ConfigError('DTX_REDIS_URL', 'is required by dtx worker (e.g. redis://127.0.0.1:6379)');
  let concurrency = env.workerConcurrency;
  if (values.concurrency !== undefined) {
    if (!/^\d+$/.test(values.concurrency) || Number(values.concurrency) < 1) throw new ConfigError('--concurrency', `must be a positive whole number, got "${values.concurrency}"`);
    concurrency = Number(values.concurrency);
  }
  const log = throttledLog(5000);
  const w = createRecoveryWorker({ ...env, workerConcurrency: concurrency, recovery: false }, {
    onError: (context, err) => log(`dtx worker: ${context}: ${err.message}`),
    onNotice: (m) => console.log(`dtx worker: ${new Date().toISOString()} ${m}`),
    logger: jsonLines(),
  });
  await w.start();
  const o = w.options;
  console.log(`dtx worker ready (concurrency ${o.workerConcurrency}, queue prefix ${o.queuePrefix}, log: ${redactUrl(o.databaseUrl)}, redis: ${redactUrl(o.redisUrl ?? '')})`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      console.log(`dtx worker: ${signal}: finishing in-flight jobs`);
      w.close({ timeoutMs: 10_000 }).then(resolve, (err) => {
        console.error(`dtx worker: close failed: ${toError(err).message}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  const s = w.stats;
  console.log(`dtx worker stopped: jobs=${s.jobs} driven=${s.driven} finished=${s.finished} skipped=${s.skipped} failed=${s.failed} sweeps=${s.sweeps} heldBackByCircuit=${s.heldBackByCircuit}`);
  return 0;
}

/** Structured lines on stdout, in pino's shape (level 30 info, 40 warn), like the coordinator's. */
function jsonLines(): DtxLogger {
  const line = (level: number) => (fields: Record<string, unknown>, msg: string) => console.log(JSON.stringify({ level, time: Date.now(), pid: process.pid, ...fields, msg }));
  return { info: line(30), warn: line(40) };
}

/** During an outage every job and reconnect fails: print the same message at most once per `everyMs`, with a count of what was held back. */
function throttledLog(everyMs: number): (line: string) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (line) => {
    const key = line.slice(0, 120);
    const now = Date.now();
    const seen = last.get(key);
    if (seen && now - seen.at < everyMs) {
      seen.suppressed++;
      return;
    }
    if (last.size > 1000) last.clear();
    console.warn(seen?.suppressed ? `${line} (and ${seen.suppressed} more like it)` : line);
    last.set(key, { at: now, suppressed: 0 });
  };
}
