import type { Knex } from 'knex';
import { barrierDialect, barrierTimestamp } from './dialect.js';

/**
 * A barrier row's op, and the op that wrote it (its reason): TCC's try, confirm and cancel;
 * a saga's action and compensate (v1.2); a message's `msg` (the producer's local
 * transaction) and `rollback` (its check-back found none).
 */
export type BarrierOp = 'try' | 'confirm' | 'cancel' | 'action' | 'compensate' | 'msg' | 'rollback';

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
 * existing row (a no-op upsert), and answers the row's reason: `reason` when this call
 * inserted it, else what the existing row holds. Still insert-first, so a missing row is
 * never locked by a read (no gap locks); and unlike INSERT IGNORE, which only share-locks
 * the duplicate, two callers of one branch queue on the row instead of both reading past
 * each other.
 *
 * The reason comes back with the statement itself: RETURNING on PostgreSQL and SQLite.
 * MySQL has no RETURNING (MariaDB's is not MySQL's), and its affected-rows count cannot
 * tell an insert from an unchanged duplicate under mysql2's default FOUND_ROWS flag (1
 * for both), so the update clause hands the existing reason back through
 * LAST_INSERT_ID(n), which the server reports as the statement's insertId: 0 when the
 * row was inserted (the table has no AUTO_INCREMENT column), else the reason's position
 * in REASONS. The assignment keeps `reason` as it was.
 */
export async function insertOrLockBarrierRow(trx: Knex.Transaction, key: BarrierKey, op: BarrierOp, reason: BarrierOp): Promise<BarrierOp> {
  const values = [key.xid, key.branchId, op, reason, barrierTimestamp(Date.now())];
  const columns = '(xid, branch_id, op, reason, created_at) VALUES (?, ?, ?, ?, ?)';
  switch (barrierDialect(trx)) {
    case 'mysql': {
      const found = `LAST_INSERT_ID(FIELD(reason, ${REASONS.map((r) => `'${r}'`).join(', ')}))`;
      const [header] = (await trx.raw(`INSERT INTO dtx_barrier ${columns} ON DUPLICATE KEY UPDATE reason = IF(${found}, reason, reason)`, values)) as [{ insertId: number }];
      return header.insertId === 0 ? reason : REASONS[header.insertId - 1]!;
    }
    case 'postgres': {
      const res = (await trx.raw(`INSERT INTO dtx_barrier ${columns} ON CONFLICT (xid, branch_id, op) DO UPDATE SET reason = dtx_barrier.reason RETURNING reason`, values)) as { rows: { reason: BarrierOp }[] };
      return res.rows[0]!.reason;
    }
    case 'sqlite': {
      const rows = (await trx.raw(`INSERT INTO dtx_barrier ${columns} ON CONFLICT (xid, branch_id, op) DO UPDATE SET reason = dtx_barrier.reason RETURNING reason`, values)) as { reason: BarrierOp }[];
      return rows[0]!.reason;
    }
  }
}

const REASONS: readonly BarrierOp[] = ['try', 'confirm', 'cancel', 'action', 'compensate', 'msg', 'rollback'];

/**
 * Inserts one barrier row unless the branch has an `unless` row (or the row exists
 * already); true when this call inserted it. One statement, so a phase writes its row and
 * checks for the other phase's in a single round trip. The check is only sound after
 * insertOrLockBarrierRow has locked the branch's `try` row in this transaction (every
 * confirm and cancel does that first), so no other confirm or cancel of the branch is
 * in flight and this statement sees what the last one committed:
 * - MySQL: under REPEATABLE READ the SELECT of INSERT … SELECT is a locking read of the
 *   newest rows; the missing `unless` row gets a shared gap lock, which only holds back
 *   other transactions' inserts into that gap until this one commits: those are first
 *   statements of new branches (each phase's first statement is its insert), which hold
 *   no lock this transaction could wait for. Under READ COMMITTED it is a consistent read
 *   taken when the statement starts, after the lock.
 * - PostgreSQL (READ COMMITTED unless the caller chose otherwise): the statement's
 *   snapshot is taken after the lock was granted. Under REPEATABLE READ a try row changed
 *   since the transaction's snapshot already failed the lock with a serialization error.
 * - SQLite: one writer at a time.
 */
export async function insertBarrierRowUnless(trx: Knex.Transaction, key: BarrierKey, op: BarrierOp, reason: BarrierOp, unless: BarrierOp): Promise<boolean> {
  const row = [key.xid, key.branchId, op, reason, barrierTimestamp(Date.now())];
  const other = [key.xid, key.branchId, unless];
  const absent = 'NOT EXISTS (SELECT 1 FROM dtx_barrier WHERE xid = ? AND branch_id = ? AND op = ?)';
  const columns = '(xid, branch_id, op, reason, created_at)';
  switch (barrierDialect(trx)) {
    case 'mysql': {
      const [header] = (await trx.raw(`INSERT IGNORE INTO dtx_barrier ${columns} SELECT ?, ?, ?, ?, ? FROM DUAL WHERE ${absent}`, [...row, ...other])) as [{ affectedRows: number }];
      return header.affectedRows === 1;
    }
    case 'postgres': {
      // Parameters in a SELECT list are text; the timestamp needs saying.
      const res = (await trx.raw(`INSERT INTO dtx_barrier ${columns} SELECT ?, ?, ?, ?, CAST(? AS TIMESTAMP(3)) WHERE ${absent} ON CONFLICT DO NOTHING`, [...row, ...other])) as { rowCount: number };
      return res.rowCount === 1;
    }
    case 'sqlite': {
      const rows = (await trx.raw(`INSERT INTO dtx_barrier ${columns} SELECT ?, ?, ?, ?, ? WHERE ${absent} ON CONFLICT DO NOTHING RETURNING op`, [...row, ...other])) as unknown[];
      return rows.length === 1;
    }
  }
}

/**
 * SQLite only: the whole confirm in one statement. Inserts the `confirm` row when the
 * branch's `try` row was written by its try and no `cancel` row exists; true when it did.
 * Safe because SQLite has one writer at a time: a writing statement that is its
 * transaction's first reads the newest data under the write lock, so no cancel can slip
 * in between the check and the insert. (On MySQL and PostgreSQL the same statement is
 * not safe without locking the try row first: see insertBarrierRowUnless.)
 */
export async function insertConfirmRowIfTried(trx: Knex.Transaction, key: BarrierKey): Promise<boolean> {
  const rows = (await trx.raw(
    `INSERT INTO dtx_barrier (xid, branch_id, op, reason, created_at)
     SELECT xid, branch_id, 'confirm', 'confirm', ? FROM dtx_barrier
     WHERE xid = ? AND branch_id = ? AND op = 'try' AND reason = 'try'
       AND NOT EXISTS (SELECT 1 FROM dtx_barrier WHERE xid = ? AND branch_id = ? AND op = 'cancel')
     ON CONFLICT DO NOTHING RETURNING op`,
    [barrierTimestamp(Date.now()), key.xid, key.branchId, key.xid, key.branchId],
  )) as unknown[];
  return rows.length === 1;
}

/** The `op` row (a try's or a saga action's) of a branch this transaction just failed to insert or locked, i.e. a row known to exist. */
export async function barrierRow(trx: Knex.Transaction, key: BarrierKey, op: 'try' | 'action'): Promise<{ reason: string; result: string | null } | undefined> {
  return (await trx('dtx_barrier').where({ xid: key.xid, branch_id: key.branchId, op }).first('reason', 'result')) as
    | { reason: string; result: string | null }
    | undefined;
}

/** Keeps what a try or a saga action returned (JSON text) on the `op` row this transaction inserted. */
export async function keepResult(trx: Knex.Transaction, key: BarrierKey, op: 'try' | 'action', resultJson: string): Promise<void> {
  await trx('dtx_barrier').where({ xid: key.xid, branch_id: key.branchId, op }).update({ result: resultJson });
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
