import type { Knex } from 'knex';
import { barrierDialect, barrierTimestamp } from './dialect.js';

export type BarrierOp = 'try' | 'confirm' | 'cancel';

export interface BarrierKey {
  xid: string;
  branchId: string;
}

/**
 * Inserts one barrier row unless its primary key exists; true when this call inserted it.
 * Insert-first is the whole point (PROTOCOL.md): the row count decides, and no statement
 * ever locks a missing row with SELECT … FOR UPDATE.
 */
export async function insertBarrierRow(trx: Knex.Transaction, key: BarrierKey, op: BarrierOp, reason: BarrierOp): Promise<boolean> {
  const values = [key.xid, key.branchId, op, reason, barrierTimestamp(Date.now())];
  const columns = '(xid, branch_id, op, reason, created_at) VALUES (?, ?, ?, ?, ?)';
  switch (barrierDialect(trx)) {
    case 'mysql': {
      const [header] = (await trx.raw(`INSERT IGNORE INTO dtx_barrier ${columns}`, values)) as [{ affectedRows: number }];
      return header.affectedRows === 1;
    }
    case 'postgres': {
      const res = (await trx.raw(`INSERT INTO dtx_barrier ${columns} ON CONFLICT DO NOTHING`, values)) as { rowCount: number };
      return res.rowCount === 1;
    }
    case 'sqlite': {
      // knex hands back rows for RETURNING, which is how SQLite reports what it inserted.
      const rows = (await trx.raw(`INSERT INTO dtx_barrier ${columns} ON CONFLICT DO NOTHING RETURNING op`, values)) as unknown[];
      return rows.length === 1;
    }
  }
}

/**
 * Inserts one barrier row, or if its primary key exists, takes an exclusive lock on that
 * existing row (a no-op upsert). Still insert-first, so a missing row is never locked by a
 * read (no gap locks); and unlike INSERT IGNORE, which only share-locks the duplicate, two
 * callers of one branch queue on the row instead of both reading past each other.
 */
export async function insertOrLockBarrierRow(trx: Knex.Transaction, key: BarrierKey, op: BarrierOp, reason: BarrierOp): Promise<void> {
  const values = [key.xid, key.branchId, op, reason, barrierTimestamp(Date.now())];
  const columns = '(xid, branch_id, op, reason, created_at) VALUES (?, ?, ?, ?, ?)';
  switch (barrierDialect(trx)) {
    case 'mysql':
      await trx.raw(`INSERT INTO dtx_barrier ${columns} ON DUPLICATE KEY UPDATE reason = reason`, values);
      return;
    case 'postgres':
    case 'sqlite':
      await trx.raw(`INSERT INTO dtx_barrier ${columns} ON CONFLICT (xid, branch_id, op) DO UPDATE SET reason = dtx_barrier.reason`, values);
      return;
  }
}

/** The `try` row of a branch this transaction just failed to insert, i.e. a row known to exist. */
export async function barrierTryRow(trx: Knex.Transaction, key: BarrierKey): Promise<{ reason: string; result: string | null } | undefined> {
  return (await trx('dtx_barrier').where({ xid: key.xid, branch_id: key.branchId, op: 'try' }).first('reason', 'result')) as
    | { reason: string; result: string | null }
    | undefined;
}

/** Keeps what the try returned (JSON text) on the `try` row this transaction inserted. */
export async function keepTryResult(trx: Knex.Transaction, key: BarrierKey, resultJson: string): Promise<void> {
  await trx('dtx_barrier').where({ xid: key.xid, branch_id: key.branchId, op: 'try' }).update({ result: resultJson });
}

/**
 * The rows of one branch, op → reason. A plain (non-locking) read, used only to refuse
 * phase sequences the coordinator never sends (confirm without a try, confirm and cancel
 * both). It sees a concurrent confirm or cancel only because it runs after
 * insertOrLockBarrierRow has waited for that one to commit; on MySQL it must also be the
 * transaction's first plain read, which fixes the REPEATABLE READ snapshot.
 */
export async function barrierRowsOf(trx: Knex.Transaction, key: BarrierKey): Promise<Map<string, string>> {
  const rows = (await trx('dtx_barrier').where({ xid: key.xid, branch_id: key.branchId }).select('op', 'reason')) as { op: string; reason: string }[];
  return new Map(rows.map((r) => [r.op, r.reason]));
}
