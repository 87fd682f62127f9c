import { parseArgs } from 'node:util';
import { optionsFromEnv, unknownEnvNames } from '../config/env.js';
import { resolveOptions } from '../config/options.js';
import { createCoordinator } from '../coordinator.js';
import { ConfigError, DtxError, toError } from '../errors.js';
import { TransactionLog } from '../log/transaction-log.js';
import { CoordinatorService } from '../service/coordinator-service.js';
import { Metrics } from '../metrics.js';
import { HttpParticipantCaller } from '../phase2/participant-caller.js';
import { TX_STATUSES, type TxStatus } from '@dtx/protocol';
import { redactUrl, WorkerStartError } from '../recovery/bullmq/errors.js';
import { RecoveryQueue } from '../recovery/bullmq/recovery-queue.js';
import { redisTargetFromUrl } from '../recovery/bullmq/redis.js';
import { worker } from './worker.js';

const USAGE = `usage: dtx <command>

  serve                         start the coordinator (DTX_* environment, see README)
  migrate                       apply the log's migrations to DTX_DATABASE_URL and exit
  worker [--concurrency N]      drive due transactions from the BullMQ queue on DTX_REDIS_URL
                                (default concurrency 32, or DTX_WORKER_CONCURRENCY)
  tx get <xid>                  print one transaction with its branches
  tx list [--status S] [--stuck] [--limit N]
                                list transactions, newest first
  tx retry <xid>                run phase 2 of a committing/rolling_back transaction now
                                (with DTX_REDIS_URL: hand it to the workers now)
`;

async function main(argv: string[]): Promise<number> {
  for (const name of unknownEnvNames()) console.warn(`dtx: warning: unknown environment variable ${name} (ignored)`);
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve();
    case 'migrate': {
      const log = await TransactionLog.open(resolveOptions(optionsFromEnv()).databaseUrl);
      await log.close();
      console.log('migrations applied');
      return 0;
    }
    case 'worker':
      return worker(rest);
    case 'tx':
      return tx(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`dtx: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function serve(): Promise<number> {
  const coordinator = createCoordinator(optionsFromEnv());
  await coordinator.start();
  const o = coordinator.options;
  console.log(`dtx coordinator listening on ${coordinator.url} (log: ${redactUrl(o.databaseUrl)}, recovery: ${o.redisUrl ? 'BullMQ' : 'in-process'})`);
  if (coordinator.dtmUrl) console.log(`dtx DTM-compatible API listening on ${coordinator.dtmUrl}/api/dtmsvr`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      console.log(`dtx: ${signal}: draining`);
      coordinator.close({ timeoutMs: 10_000 }).then(resolve, (err) => {
        console.error(`dtx: close failed: ${toError(err).message}`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

async function tx(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { status: { type: 'string' }, stuck: { type: 'boolean' }, limit: { type: 'string' } },
  });
  const [sub, xid] = positionals;
  const options = resolveOptions({ ...optionsFromEnv(), recovery: false });
  const log = await TransactionLog.open(options.databaseUrl);
  const caller = new HttpParticipantCaller(options.signingSecret);
  const queue = options.redisUrl ? new RecoveryQueue(redisTargetFromUrl(options.redisUrl), options.queuePrefix) : null;
  let enqueued: boolean | undefined;
  const enqueueRecovery = queue
    ? async (xid: string) => {
        enqueued = await queue.enqueueNow(xid, Date.now());
      }
    : undefined;
  const service = new CoordinatorService({ log, caller, options, metrics: new Metrics(() => log.batcher), enqueueRecovery });
  try {
    if (sub === 'get' && xid) print(await service.get(xid));
    else if (sub === 'list') {
      if (values.status && !TX_STATUSES.includes(values.status as TxStatus)) throw new ConfigError('--status', `must be one of ${TX_STATUSES.join(', ')}`);
      print(await service.list({ status: values.status as TxStatus | undefined, stuck: values.stuck ? true : undefined, limit: values.limit ? Number(values.limit) : 50 }));
    } else if (sub === 'retry' && xid) {
      const a = await service.retry(xid);
      await service.drain(60_000);
      const t = await service.get(xid);
      if (queue && a.retried && !enqueued) console.warn('dtx: Redis did not answer; the transaction is due now and the next sweep will enqueue it');
      print({ xid: t.xid, status: t.status, retried: a.retried, ...(queue ? { enqueued: enqueued === true } : {}), lastError: t.lastError });
    } else {
      process.stderr.write(USAGE);
      return 2;
    }
    return 0;
  } finally {
    await queue?.close().catch(() => {});
    await caller.close();
    await log.close();
  }
}

function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof ConfigError) console.error(`dtx: configuration error: ${err.message}`);
    else if (err instanceof DtxError || err instanceof WorkerStartError) console.error(`dtx: ${err.code}: ${err.message}`);
    else console.error(`dtx: ${toError(err).message}`);
    process.exit(1);
  },
);
