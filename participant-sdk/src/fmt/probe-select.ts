/** The knex QueryBuilder surface a managed write uses (knex 3.x). */
export interface WriteBuilder {
  _method: string;
  _single: Record<string, unknown>;
  _statements: { grouping?: string }[];
  client: { raw(sql: string): unknown };
  clone(): WriteBuilder;
  select(...cols: unknown[]): WriteBuilder;
  forUpdate(): WriteBuilder;
  returning(cols: string[]): WriteBuilder;
  toSQL(): { sql: string; bindings: readonly unknown[] };
}

/**
 * A write's (or a locking read's) builder turned into a SELECT of `selectList` over the
 * same table and WHERE, locked FOR UPDATE unless it already locks: the rows the statement
 * will touch, read with knex's own compiler and bindings. The builder itself is left as it was.
 */
export function probeSelect(b: WriteBuilder, selectList: string): { sql: string; bindings: readonly unknown[] } {
  const probe = b.clone();
  probe._method = 'select';
  probe._single = { ...probe._single };
  delete probe._single.update;
  delete probe._single.counter;
  delete probe._single.returning;
  probe._statements = probe._statements.filter((s) => s.grouping !== 'columns');
  probe.select(probe.client.raw(selectList));
  if (!probe._single.lock) probe.forUpdate();
  return probe.toSQL();
}
