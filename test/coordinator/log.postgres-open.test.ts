import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadMigrations } from '../../coordinator/src/log/migrate.js';
import { TransactionLog } from '../../coordinator/src/log/transaction-log.js';
import { readTx } from '../../coordinator/src/log/queries/readTransaction.js';
import { insertTransaction } from '../../coordinator/src/log/transitions/insertTransaction.js';
import { txRecord } from '../support/records.js';
import { POSTGRES_ROOT_URL, requireService } from '../support/services.js';
import { xid } from './api.fixture.js';

// What opening a PostgreSQL log does to the database and to the process around it.
const hasPostgres = await requireService('postgres');

describe.runIf(hasPostgres)('a PostgreSQL log', () => {
  const name = `dtx_open_${Date.now().toString(36)}`;
  const url = Object.assign(new URL(POSTGRES_ROOT_URL), { pathname: `/${name}` }).toString();
  let a: TransactionLog;
  let b: TransactionLog;
  beforeAll(async () => {
    // two processes starting at once on a database that does not exist yet
    [a, b] = await Promise.all([TransactionLog.open(url), TransactionLog.open(url)]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    const admin = new pg.Client({ connectionString: POSTGRES_ROOT_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  test('is created and migrated once when two coordinators open it at once', async () => {
    const rows = await a.read((k) => k('dtx_migrations').select('name'));
    expect(rows.map((r: { name: string }) => r.name).sort()).toEqual(loadMigrations('postgres').map((m) => m.name)); // each once
  });

  test('reads its BIGINT times as numbers, and leaves pg\'s global int8 parser alone', async () => {
    const x = xid('int8');
    const now = Date.now();
    await a.write((trx) => insertTransaction(trx, txRecord(x, { now }), []));
    const raw = await a.read((k) => k('dtx_global_tx').where({ xid: x }).first('created_at', 'deadline'));
    expect(raw).toEqual({ created_at: now, deadline: now + 60_000 });
    expect((await b.read((k) => readTx(k, x)))?.createdAt).toBe(now);
    // any other pg client of the process still gets int8 as a string
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      expect((await other.query('SELECT created_at FROM dtx_global_tx WHERE xid = $1', [x])).rows[0].created_at).toBe(String(now));
    } finally {
      await other.end();
    }
  });
});
