import { expect, test } from 'vitest';
import { loadMigrations } from '../../coordinator/src/log/migrate.js';

/** Tables and columns each dialect's DDL defines, read from the files themselves. */
function schema(dialect: 'mysql' | 'sqlite' | 'postgres'): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of loadMigrations(dialect)) {
    for (const s of m.statements) {
      const added = /^ALTER TABLE (\w+) ADD COLUMN (\w+)\s/i.exec(s);
      if (added) out[added[1]!] = [...(out[added[1]!] ?? []), added[2]!].sort();
      const t = /^CREATE TABLE IF NOT EXISTS (\w+) \(([\s\S]*)\)/i.exec(s);
      if (!t) continue;
      out[t[1]!] = t[2]!
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^[a-z_]+\s/.test(l) && !/^(PRIMARY|KEY|UNIQUE|INDEX)\b/i.test(l))
        .map((l) => l.split(/\s+/)[0]!)
        .sort();
    }
  }
  return out;
}

test('MySQL, SQLite and PostgreSQL define the same tables and columns', () => {
  const mysql = schema('mysql');
  expect(Object.keys(mysql).sort()).toEqual(['dtx_attempt', 'dtx_branch', 'dtx_global_tx']);
  expect(schema('sqlite')).toEqual(mysql);
  expect(schema('postgres')).toEqual(mysql);
  expect(mysql.dtx_global_tx).toContain('next_retry_at');
  expect(mysql.dtx_global_tx).toContain('trace_parent');
  expect(mysql.dtx_attempt).toContain('http_status');
});
