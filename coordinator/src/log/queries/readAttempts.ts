import type { Knex } from 'knex';
import { ATTEMPT_TABLE, attemptFromRow, type AttemptRecord } from '../attempt-records.js';

/** A transaction's attempt history, oldest first (ties in the same millisecond in the order they were written). */
export async function readAttempts(db: Knex, xid: string): Promise<AttemptRecord[]> {
  const rows = await db(ATTEMPT_TABLE).where({ xid }).orderBy([{ column: 'called_at', order: 'asc' }, { column: 'id', order: 'asc' }]);
  return rows.map(attemptFromRow);
}
