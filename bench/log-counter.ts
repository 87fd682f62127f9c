// Loaded into the bench's coordinator with `--import` (after tsx): counts the log writes it
// asks for (each call of the write batcher's run or apply: one transition, whatever batch
// it joins) and the SQL statements its knex runs, by first keyword (insert, update, select,
// begin, commit, …), at knex's one entry point for every statement, BEGIN and COMMIT
// included (Client.prototype.query). Prints both on SIGUSR2 (see statement-counts.ts).
import { createRequire } from 'node:module';
import { WriteBatcher } from '../coordinator/src/log/write-batcher.js';
import { COUNTS_LINE, type LogCounts } from './log-counts.js';

type Query = (this: unknown, connection: unknown, queryParam: string | { sql?: string }) => Promise<unknown>;

const counts: LogCounts = { writes: 0, statements: {} };

// the same module instances as the coordinator's: one hoisted knex, one write-batcher.ts URL
const Client = createRequire(import.meta.url)('knex/lib/client.js') as { prototype: { query: Query } };
const query = Client.prototype.query;
Client.prototype.query = function (this: unknown, connection, queryParam) {
  const sql = typeof queryParam === 'string' ? queryParam : (queryParam?.sql ?? '');
  const kind = /^\s*([a-z]+)/i.exec(sql)?.[1]?.toLowerCase() ?? 'other';
  counts.statements[kind] = (counts.statements[kind] ?? 0) + 1;
  return query.call(this, connection, queryParam);
};
for (const method of ['run', 'apply'] as const) {
  const original = WriteBatcher.prototype[method] as (...args: unknown[]) => Promise<unknown>;
  (WriteBatcher.prototype[method] as unknown) = function (this: WriteBatcher, ...args: unknown[]) {
    counts.writes++;
    return original.apply(this, args);
  };
}

let asked = 0;
process.on('SIGUSR2', () => process.stdout.write(`${COUNTS_LINE} #${++asked} ${JSON.stringify(counts)}\n`));
