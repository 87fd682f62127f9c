import type { Knex } from 'knex';
import type { BarrierKey } from '../barrier/insert-barrier-row.js';
import { xaFormatIdOf, xaIdOf, xaIdOfRecoverRow, xaIdSql, type XaId } from './xa-id.js';

const formatIds = new WeakMap<Knex, Promise<number>>();

/** This database's formatID (xa-id.ts), from its name, asked once per knex instance. */
export function formatIdOf(knex: Knex): Promise<number> {
  let id = formatIds.get(knex);
  if (!id) {
    id = (knex.raw('SELECT DATABASE() AS db') as unknown as Promise<[{ db: string | null }[]]>).then(([rows]) => xaFormatIdOf(rows[0]?.db ?? ''));
    id.catch(() => formatIds.delete(knex));
    formatIds.set(knex, id);
  }
  return id;
}

/** The XA id of a branch of this database. */
export async function xaIdIn(knex: Knex, key: BarrierKey): Promise<XaId> {
  return xaIdOf(key, await formatIdOf(knex));
}

/** MySQL / MariaDB ER_XAER_NOTA: no such prepared branch. */
const XAER_NOTA = 1397;
/** ER_XAER_DUPID: XA START of an id that another session has started or prepared. */
const XAER_DUPID = 1440;

/** XA START met the same branch running or prepared elsewhere: wait and look again, like a lock conflict. */
export function isXaIdTaken(err: unknown): boolean {
  return (err as { errno?: unknown } | null)?.errno === XAER_DUPID;
}

/** XA COMMIT or XA ROLLBACK of a prepared branch, from any connection; false when there is none (XAER_NOTA). */
export async function endXaBranch(knex: Knex, id: XaId, how: 'commit' | 'rollback'): Promise<boolean> {
  try {
    await knex.raw(`XA ${how === 'commit' ? 'COMMIT' : 'ROLLBACK'} ${xaIdSql(id)}`);
    return true;
  } catch (err) {
    if ((err as { errno?: unknown }).errno === XAER_NOTA) return false;
    throw err;
  }
}

/** The prepared branches of this database that the SDK started (its formatID). */
export async function preparedXaIds(knex: Knex): Promise<XaId[]> {
  const formatId = await formatIdOf(knex);
  const [rows] = (await knex.raw('XA RECOVER')) as [{ formatID: number; gtrid_length: number; data: string | Buffer }[]];
  return rows.map(xaIdOfRecoverRow).filter((id) => id.formatId === formatId);
}

/**
 * When the branch's try is prepared: its try row as the prepared branch wrote it (read
 * uncommitted, the only way to see into a prepared branch without waiting on its locks).
 */
export async function preparedTryOf(knex: Knex, key: BarrierKey): Promise<{ result: string | null } | undefined> {
  const id = await xaIdIn(knex, key);
  const prepared = (await preparedXaIds(knex)).some((p) => p.gtrid === id.gtrid && p.bqual === id.bqual);
  if (!prepared) return undefined;
  return knex.transaction(
    async (trx) => {
      const row = (await trx('dtx_barrier').where({ xid: key.xid, branch_id: key.branchId, op: 'try' }).first('reason', 'result')) as
        | { reason: string; result: string | null }
        | undefined;
      return row?.reason === 'try' ? { result: row.result } : undefined;
    },
    { isolationLevel: 'read uncommitted' },
  );
}
