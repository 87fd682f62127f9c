import { ensureBarrierTable, knexFromUrl, pruneBarrier, runInBarrier } from '@dtx/participant-sdk';
import type { Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { newXid } from './support/callbacks.js';

const kinds = await storeKinds(['sqlite', 'mysql', 'postgres']);
const HOUR = 3_600_000;

describe.each(kinds)('barrier pruning on %s', (kind) => {
  let db: FreshDatabase | undefined;
  let knex: Knex | undefined;
  afterEach(async () => {
    await knex?.destroy();
    await db?.drop();
  });

  async function withRows(n: number): Promise<Knex> {
    db = await freshDatabase(kind, 'prune');
    knex = knexFromUrl(db.url);
    await ensureBarrierTable(knex);
    for (let i = 0; i < n; i++) await runInBarrier(knex, { xid: newXid(), branchId: `b${i}` }, 'try', async () => undefined);
    return knex;
  }
  const count = async (k: Knex) => Number((await k('dtx_barrier').count({ n: '*' }).first())!.n);

  it('keeps rows younger than the retention and deletes older ones in bounded batches', async () => {
    const k = await withRows(7);
    expect(await pruneBarrier(k, { retentionMs: HOUR })).toBe(0);
    expect(await count(k)).toBe(7);

    // Two hours later, with batches of 3 and at most 2 batches: 6 go, one is left for the next run.
    const later = Date.now() + 2 * HOUR;
    expect(await pruneBarrier(k, { retentionMs: HOUR, batchSize: 3, maxBatches: 2, now: later })).toBe(6);
    expect(await count(k)).toBe(1);
    expect(await pruneBarrier(k, { retentionMs: HOUR, batchSize: 3, now: later })).toBe(1);
    expect(await count(k)).toBe(0);
  });

  it('refuses a retention that is not a positive integer', async () => {
    const k = await withRows(1);
    await expect(pruneBarrier(k, { retentionMs: 0 })).rejects.toThrow(RangeError);
    expect(await count(k)).toBe(1);
  });
});
