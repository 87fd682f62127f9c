import { imageColumnOf, type CatalogColumn, type FmtDialect, type ImageColumn } from './image-columns.js';
import { rowsOf, type FmtSql } from './sql-rows.js';

/** What FMT needs to know of a table it writes, read from the catalog. */
export interface TableMeta {
  table: string;
  /** The columns an image holds: every column but generated ones, in table order. */
  columns: ImageColumn[];
  /** Primary key column names, in key order (empty: no primary key). */
  pk: string[];
  /** The primary key's value comes from the database when an insert omits it (AUTO_INCREMENT, serial, identity). */
  generatedKey: boolean;
  /** PostgreSQL GENERATED ALWAYS identity: a re-insert needs OVERRIDING SYSTEM VALUE. */
  identityAlways: boolean;
  hasTriggers: boolean;
  /** A foreign key elsewhere deletes or changes rows of another table when a row here goes (CASCADE, SET NULL, SET DEFAULT). */
  cascades: boolean;
}

/** Catalog reads are cached per database configuration for this long, so a changed table is seen again. */
const CACHE_MS = 60_000;
const cache = new WeakMap<object, Map<string, { at: number; meta: Promise<TableMeta> }>>();

export function tableMetaOf(db: FmtSql, table: string): Promise<TableMeta> {
  const key = db.cacheKey;
  let byTable = cache.get(key);
  if (!byTable) cache.set(key, (byTable = new Map()));
  const hit = byTable.get(table);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.meta;
  const meta = (db.dialect === 'mysql' ? mysqlMeta : postgresMeta)(db, table);
  meta.catch(() => byTable.delete(table));
  byTable.set(table, { at: Date.now(), meta });
  return meta;
}

interface RawColumn extends CatalogColumn {
  generated: boolean | number | string;
  auto: boolean | number | string;
  identity?: string;
}

async function mysqlMeta(db: FmtSql, table: string): Promise<TableMeta> {
  const cols = await rowsOf<RawColumn>(db,
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS fullType, COLLATION_NAME AS collation,
            EXTRA LIKE '%GENERATED%' AS \`generated\`, EXTRA LIKE '%auto_increment%' AS auto
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, [table]);
  const pk = await rowsOf<{ name: string }>(db,
    "SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX", [table]);
  const [counts] = await rowsOf<{ triggers: number | string; cascades: number | string }>(db,
    `SELECT (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = ?) AS triggers,
            (SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE UNIQUE_CONSTRAINT_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME = ?
               AND (DELETE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT') OR UPDATE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT'))) AS cascades`, [table, table]);
  return metaOf('mysql', table, cols, pk.map((r) => r.name), false, counts);
}

async function postgresMeta(db: FmtSql, table: string): Promise<TableMeta> {
  const rel = 'to_regclass(CAST(? AS text))';
  const cols = await rowsOf<RawColumn>(db,
    `SELECT a.attname AS name, t.typname AS "dataType", format_type(a.atttypid, a.atttypmod) AS "fullType", NULL AS collation,
            a.attgenerated <> '' AS generated, (a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%') AS auto,
            a.attidentity AS identity
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = ${rel} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, [table]);
  const pk = await rowsOf<{ name: string }>(db,
    `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = ${rel} AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`, [table]);
  const [counts] = await rowsOf<{ triggers: number | string; cascades: number | string }>(db,
    `SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = ${rel} AND NOT tgisinternal) AS triggers,
            (SELECT count(*) FROM pg_constraint WHERE confrelid = ${rel} AND contype = 'f'
               AND (confdeltype IN ('c', 'n', 'd') OR confupdtype IN ('c', 'n', 'd'))) AS cascades`, [table, table]);
  return metaOf('postgres', table, cols, pk.map((r) => r.name), cols.some((c) => c.identity === 'a'), counts);
}

function metaOf(
  dialect: FmtDialect,
  table: string,
  cols: RawColumn[],
  pk: string[],
  identityAlways: boolean,
  counts: { triggers: number | string; cascades: number | string } | undefined,
): TableMeta {
  const truthy = (v: unknown) => v === true || Number(v) === 1;
  return {
    table,
    columns: cols.filter((c) => !truthy(c.generated)).map((c) => imageColumnOf(dialect, c)),
    pk,
    generatedKey: cols.some((c) => pk.includes(c.name) && truthy(c.auto)),
    identityAlways,
    hasTriggers: Number(counts?.triggers ?? 0) > 0,
    cascades: Number(counts?.cascades ?? 0) > 0,
  };
}
