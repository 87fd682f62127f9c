import type { Knex } from 'knex';

/** The SQL dialects the barrier speaks; each has its own insert-or-ignore and batch delete. */
export type BarrierDialect = 'mysql' | 'postgres' | 'sqlite';

export function barrierDialect(knex: Knex): BarrierDialect {
  const client = (knex.client as { dialect?: string; config?: { client?: unknown } });
  const name = String(client.dialect ?? client.config?.client ?? '');
  if (name.startsWith('mysql')) return 'mysql';
  if (name === 'pg' || name.startsWith('postgres')) return 'postgres';
  if (name.includes('sqlite')) return 'sqlite';
  throw new Error(`the DTX barrier does not support the knex client ${name}`);
}

/**
 * Timestamps are written as UTC `YYYY-MM-DD HH:MM:SS.mmm` on every dialect: a DATETIME(3) /
 * TIMESTAMP(3) literal on MySQL and Postgres, and text that sorts by time on SQLite.
 */
export function barrierTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
}
