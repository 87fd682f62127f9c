/**
 * Which statements of an `@FmtAction` run as they are, which FMT manages (images, locks,
 * undo) and which it refuses before they run: a pure function of knex's builder state
 * (knex 3.x internals: `_method`, `_single`, `_statements`) or of raw SQL text.
 */
export type Classified =
  | { kind: 'read' }
  /** A builder SELECT … FOR UPDATE / FOR SHARE: it runs, then the rows it locked are checked against global locks. */
  | { kind: 'locking-read'; table: string }
  | { kind: 'write'; method: 'insert' | 'update' | 'del'; table: string }
  | { kind: 'refused'; why: string };

/** The parts of a knex QueryBuilder this reads. */
export interface BuilderState {
  _method?: string;
  _single?: Record<string, unknown>;
  _statements?: { grouping?: string }[];
}

const READ_METHODS = new Set(['select', 'first', 'pluck', 'columnInfo']);

export function classifyBuilder(b: BuilderState): Classified {
  const method = b._method ?? 'select';
  const single = b._single ?? {};
  const groupings = new Set((b._statements ?? []).map((s) => s.grouping));
  if (READ_METHODS.has(method)) {
    if (!single.lock) return { kind: 'read' };
    if (typeof single.table !== 'string' || groupings.has('join') || groupings.has('union')) {
      return { kind: 'refused', why: 'a locking read (FOR UPDATE / FOR SHARE) of anything but one table, which global locks cannot check' };
    }
    return { kind: 'locking-read', table: single.table };
  }
  if (method === 'truncate') return { kind: 'refused', why: 'TRUNCATE cannot be undone row by row' };
  if (method === 'upsert' || single.onConflict !== undefined || single.merge !== undefined || single.ignore !== undefined) {
    return { kind: 'refused', why: 'upserts (onConflict, merge, ignore) are not supported: their before image would need every unique key' };
  }
  if (method !== 'insert' && method !== 'update' && method !== 'del') return { kind: 'refused', why: `knex method ${method} is not a write FMT manages` };
  if (typeof single.table !== 'string') return { kind: 'refused', why: 'the target table is not a plain table name' };
  if (/\s+as\s+/i.test(single.table) || single.schema !== undefined) return { kind: 'refused', why: 'aliased or schema-qualified (withSchema) targets are not supported' };
  if (groupings.has('join')) return { kind: 'refused', why: 'writes with joins are not supported' };
  if (groupings.has('with')) return { kind: 'refused', why: 'writes with a WITH clause are not supported' };
  if (single.updateFrom !== undefined) return { kind: 'refused', why: 'UPDATE … FROM is not supported' };
  if (method === 'insert') {
    const values = single.insert;
    const rows = Array.isArray(values) ? values : [values];
    if (rows.length === 0 || !rows.every(isPlainRow)) return { kind: 'refused', why: 'INSERT … SELECT or an insert of raw SQL: FMT needs the rows as values' };
  }
  return { kind: 'write', method, table: single.table };
}

function isPlainRow(row: unknown): boolean {
  return typeof row === 'object' && row !== null && Object.getPrototypeOf(row) === Object.prototype;
}

/** Raw SQL through `ctx.trx.raw`: plain reads pass; anything that writes, locks or cannot be read is refused. */
export function classifyRaw(sql: string): Classified {
  const text = sql
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/(--|#)[^\n]*/g, ' ')
    .trim();
  if (/;\s*\S/.test(text)) return { kind: 'refused', why: 'several statements in one raw call' };
  const first = /^\(*\s*([a-z]+)/i.exec(text)?.[1]?.toLowerCase();
  if (first === 'show' || first === 'explain' || first === 'describe' || first === 'desc') return { kind: 'read' };
  if (first !== 'select' && first !== 'with' && first !== 'values' && first !== 'table') {
    return { kind: 'refused', why: 'raw SQL writes are not managed (write with the query builder: insert, update, del)' };
  }
  if (/\b(insert|update|delete|merge|replace|call|into)\b/i.test(text.replace(/'(?:[^']|'')*'/g, "''"))) {
    if (/\bfor\s+update\b/i.test(text) && !/\b(insert|delete|merge|replace|call|into)\b/i.test(text)) {
      return { kind: 'refused', why: 'raw SELECT … FOR UPDATE is not checked against global locks (use the builder: .forUpdate())' };
    }
    return { kind: 'refused', why: 'a raw statement that writes (or may: INTO, a data-modifying WITH)' };
  }
  if (/\bfor\s+(share|no\s+key\s+update|key\s+share)\b|\block\s+in\s+share\s+mode\b/i.test(text)) {
    return { kind: 'refused', why: 'raw locking reads are not checked against global locks (use the builder: .forUpdate() / .forShare())' };
  }
  return { kind: 'read' };
}
