import knexFactory from 'knex';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dueQuery } from '../../coordinator/src/log/queries/findDue.js';
import { TransactionLog } from '../../coordinator/src/log/transaction-log.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';

// DESIGN.md invariant 3: recovery's cost follows the due work, not the log's size. On
// PostgreSQL the due query must stay inside the partial index dtx_global_tx_due, whose
// predicate repeats findDue's status list: if the two drift apart, this plan changes.
const stores = (await storeKinds(['postgres'])).filter((k) => k === 'postgres');

describe.each(stores)('the due-work query on %s', (kind) => {
  let db: FreshDatabase;
  let log: TransactionLog;
  beforeAll(async () => {
    db = await freshDatabase(kind, 'due_index');
    log = await TransactionLog.open(db.url);
  });
  afterAll(async () => {
    await log.close();
    await db.drop();
  });

  test('is one range scan of dtx_global_tx_due in next_retry_at order, however many finished rows the log holds', async () => {
    const now = Date.now();
    const insert = (prefix: string, n: number, status: string, nextRetryAt: string) =>
      log.knex.raw(
        `INSERT INTO dtx_global_tx (xid, status, stuck, timeout_ms, branch_order, attempts, next_retry_at, created_at, updated_at, deadline)
         SELECT '${prefix}' || g, ${status}, 0, 60000, 'parallel', 0, ${nextRetryAt}, ${now}, ${now}, ${now + 60_000} FROM generate_series(1, ${n}) g`,
      );
    await insert('done-', 20_000, `'committed'`, 'NULL');
    await insert('open-', 300, `(ARRAY['trying', 'committing', 'rolling_back'])[1 + g % 3]`, `${now - 1500} + g * 10`);
    await log.knex.raw('ANALYZE dtx_global_tx');
    const { sql, bindings } = dueQuery(knexFactory({ client: 'pg' }), now, 64).toSQL();
    const [{ 'QUERY PLAN': [{ Plan: plan }] }] = (await log.knex.raw(`EXPLAIN (FORMAT JSON) ${sql}`, [...bindings] as never)).rows;
    expect(plan['Node Type']).toBe('Limit');
    expect(plan.Plans[0]).toMatchObject({ 'Node Type': 'Index Scan', 'Index Name': 'dtx_global_tx_due', 'Scan Direction': 'Forward' });
    const due = await dueQuery(log.knex, now, 64);
    expect(due).toHaveLength(64);
    expect(due.map((r: { next_retry_at: number }) => r.next_retry_at)).toEqual([...due.map((r: { next_retry_at: number }) => r.next_retry_at)].sort((a, b) => a - b));
  });
});
