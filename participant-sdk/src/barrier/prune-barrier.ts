import type { Knex } from 'knex';
import { barrierDialect, barrierTimestamp } from './dialect.js';

export interface PruneBarrierOptions {
  /**
   * Rows older than this are deleted. It must outlive every transaction that can still
   * send this participant a try, confirm or cancel (its timeout plus phase 2's retries):
   * a pruned `try` row from a cancel would let a suspended try through.
   */
  retentionMs: number;
  /** Rows per DELETE, so no statement holds locks for long. @default 1000 */
  batchSize?: number;
  /** Stop after this many batches (the next run continues). @default Infinity */
  maxBatches?: number;
  /** @default Date.now() */
  now?: number;
}

/** Deletes barrier rows older than the retention in bounded batches; returns how many went. */
export async function pruneBarrier(knex: Knex, options: PruneBarrierOptions): Promise<number> {
  const { retentionMs, batchSize = 1000, maxBatches = Number.POSITIVE_INFINITY, now = Date.now() } = options;
  if (!Number.isSafeInteger(retentionMs) || retentionMs <= 0) throw new RangeError(`retentionMs must be a positive integer, got ${retentionMs}`);
  if (!Number.isSafeInteger(batchSize) || batchSize <= 0) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const cutoff = barrierTimestamp(now - retentionMs);
  const dialect = barrierDialect(knex);
  let total = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const deleted = await deleteBatch(knex, dialect, cutoff, batchSize);
    total += deleted;
    if (deleted < batchSize) break;
  }
  return total;
}

async function deleteBatch(knex: Knex, dialect: ReturnType<typeof barrierDialect>, cutoff: string, limit: number): Promise<number> {
  switch (dialect) {
    case 'mysql': {
      const [header] = (await knex.raw('DELETE FROM dtx_barrier WHERE created_at < ? ORDER BY created_at LIMIT ?', [cutoff, limit])) as [
        { affectedRows: number },
      ];
      return header.affectedRows;
    }
    case 'postgres': {
      const res = (await knex.raw(
        'DELETE FROM dtx_barrier WHERE ctid IN (SELECT ctid FROM dtx_barrier WHERE created_at < ? LIMIT ?)',
        [cutoff, limit],
      )) as { rowCount: number };
      return res.rowCount;
    }
    case 'sqlite': {
      const rows = (await knex.raw(
        'DELETE FROM dtx_barrier WHERE rowid IN (SELECT rowid FROM dtx_barrier WHERE created_at < ? LIMIT ?) RETURNING op',
        [cutoff, limit],
      )) as unknown[];
      return rows.length;
    }
  }
}
