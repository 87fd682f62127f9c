import { expect, test } from 'vitest';
import { loadMigrations } from '../../coordinator/src/log/migrate.js';

/** Tables and columns each dialect's DDL defines, read from the files themselves. */
function schema(dialect: 'mysql' | 'sqlite' | 'postgres'): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of loadMigrations(dialect)) {
    for (const s of m.statements) {
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
  expect(Object.keys(mysql).sort()).toEqual(['dtx_branch', 'dtx_global_tx']);
  expect(schema('sqlite')).toEqual(mysql);
  expect(schema('postgres')).toEqual(mysql);
  expect(mysql.dtx_global_tx).toContain('next_retry_at');
});
