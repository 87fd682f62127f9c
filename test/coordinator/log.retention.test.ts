import type { TxStatus } from '@dtx/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveOptions } from '../../coordinator/src/config/options.js';
import { optionsFromEnv } from '../../coordinator/src/config/env.js';
import { Pruner } from '../../coordinator/src/log/pruner.js';
import { TransactionLog } from '../../coordinator/src/log/transaction-log.js';
import { insertTransaction } from '../../coordinator/src/log/transitions/insertTransaction.js';
import { branchRecord, txRecord } from '../support/records.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { xid } from './api.fixture.js';

// DESIGN.md "Retention": finished transactions are deleted after the retention, in
// batches; an unfinished one never is, however old.
const stores = await storeKinds(['sqlite', 'mysql', 'postgres']);
const DAY = 86_400_000;

describe.each(stores)('retention on %s', (kind) => {
  let db: FreshDatabase;
  let log: TransactionLog;
  beforeAll(async () => {
    db = await freshDatabase(kind, 'retention');
    log = await TransactionLog.open(db.url);
  });
  afterAll(async () => {
    await log.close();
    await db.drop();
  });

  const add = async (status: TxStatus, createdAt: number): Promise<string> => {
    const x = xid(status);
    const final = status === 'committed' || status === 'rolled_back';
    const tx = txRecord(x, { now: createdAt, status, nextRetryAt: final ? null : createdAt + 60_000, finishedAt: final ? createdAt + 1000 : null });
    const branch = (id: string, seq: number) => branchRecord(x, id, { seq, now: createdAt, status: 'tried' });
    await log.write((trx) => insertTransaction(trx, tx, [branch('a', 1), branch('b', 2)]));
    return x;
  };
  const present = async (xids: string[]) => {
    const txs = await log.read((k) => k('dtx_global_tx').whereIn('xid', xids).pluck('xid'));
    const branches = await log.read((k) => k('dtx_branch').whereIn('xid', xids).distinct('xid').pluck('xid'));
    return { txs: [...txs].sort(), branches: [...branches].sort() };
  };

  test('deletes the finished transactions past the retention, with their branches, in batches; keeps the rest', async () => {
    const now = Date.now();
    const old = now - 8 * DAY;
    const expired = [...(await Promise.all([1, 2, 3, 4].map(() => add('committed', old)))), await add('rolled_back', old)];
    const kept = [await add('committing', old), await add('trying', old), await add('rolling_back', old), await add('committed', now - DAY)];

    const pruner = new Pruner({ log, retentionMs: 7 * DAY, batch: 2, now: () => now });
    expect(await pruner.pruneOnce()).toBe(5);
    expect(await present([...expired, ...kept])).toEqual({ txs: [...kept].sort(), branches: [...kept].sort() });
    expect(await pruner.pruneOnce()).toBe(0);
  });
});

describe('the retention setting', () => {
  test('defaults to 7 days; DTX_RETENTION_MS=0 keeps every transaction; a negative one is refused', () => {
    expect(resolveOptions({}).retentionMs).toBe(7 * DAY);
    expect(resolveOptions(optionsFromEnv({ DTX_RETENTION_MS: '0' })).retentionMs).toBe(0);
    expect(() => resolveOptions({ retentionMs: -1 })).toThrow(/retentionMs/);
    expect(() => optionsFromEnv({ DTX_RETENTION_MS: 'a week' })).toThrow(/DTX_RETENTION_MS/);
  });
});
