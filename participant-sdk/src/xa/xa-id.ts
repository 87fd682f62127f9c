import { createHash } from 'node:crypto';
import type { BarrierKey } from '../barrier/insert-barrier-row.js';

/**
 * The formatID of the SDK's XA branches in one database: 31 bits of the SHA-256 of the
 * database's name. XA RECOVER lists every prepared branch of the server, so the formatID
 * is how a participant tells its own branches from those of another database's
 * participant (or another application), which it must never resolve.
 */
export function xaFormatIdOf(database: string): number {
  return createHash('sha256').update(`dtx:${database}`).digest().readUInt32BE(0) & 0x7fffffff;
}

/** MySQL's limit on gtrid and on bqual, in bytes. */
const PART_MAX = 64;

/** Hashed gtrids start with `~`, which no xid contains, so the two forms never collide. */
const HASHED = '~';

export interface XaId {
  gtrid: string;
  bqual: string;
  formatId: number;
}

/**
 * The XA id of a branch: a pure function of (xid, branchId) and the database, so every process, before and
 * after a restart, names the same branch the same way. bqual is the branchId (at most 64
 * ASCII characters by the protocol); gtrid is the xid when it fits in 64 bytes, else `~`
 * and the base64url SHA-256 of the xid (44 bytes), which cannot be mapped back to the xid.
 */
export function xaIdOf(key: BarrierKey, formatId: number): XaId {
  const gtrid = key.xid.length <= PART_MAX ? key.xid : HASHED + createHash('sha256').update(key.xid).digest('base64url');
  return { gtrid, bqual: key.branchId, formatId };
}

/** The branch an XA id names, or undefined for a hashed (long) xid. */
export function branchOfXaId(id: XaId): BarrierKey | undefined {
  if (id.gtrid.startsWith(HASHED)) return undefined;
  return { xid: id.gtrid, branchId: id.bqual };
}

/** Both parts keep to [A-Za-z0-9._:~-]: no quoting needed, and no `/` (PostgreSQL's gid separator). */
function checkParts(id: XaId): void {
  for (const part of [id.gtrid, id.bqual]) if (!/^[A-Za-z0-9._:~_-]+$/.test(part)) throw new Error(`not an XA id part: ${part}`);
}

/** The id as XA statements take it: `'gtrid','bqual',formatID`. */
export function xaIdSql(id: XaId): string {
  checkParts(id);
  return `'${id.gtrid}','${id.bqual}',${id.formatId}`;
}

const GID = /^dtx\/(\d+)\/([^/]+)\/([^/]+)$/;

/**
 * The id as PostgreSQL's PREPARE TRANSACTION takes it (a gid of at most 200 bytes):
 * `dtx/formatID/gtrid/bqual`, at most 4 + 10 + 1 + 64 + 1 + 64 = 144 ASCII bytes.
 */
export function pgGidOf(id: XaId): string {
  checkParts(id);
  return `dtx/${id.formatId}/${id.gtrid}/${id.bqual}`;
}

/** The XA id a gid of pg_prepared_xacts names, or undefined for a gid the SDK did not make. */
export function xaIdOfGid(gid: string): XaId | undefined {
  const m = GID.exec(gid);
  return m ? { formatId: Number(m[1]), gtrid: m[2]!, bqual: m[3]! } : undefined;
}

/** One row of `XA RECOVER`: data is gtrid followed by bqual. */
export function xaIdOfRecoverRow(row: { formatID: number | string; gtrid_length: number | string; data: string | Buffer }): XaId {
  const data = Buffer.isBuffer(row.data) ? row.data.toString('latin1') : String(row.data);
  const g = Number(row.gtrid_length);
  return { formatId: Number(row.formatID), gtrid: data.slice(0, g), bqual: data.slice(g) };
}
