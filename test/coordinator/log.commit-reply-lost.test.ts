import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { StoreUnavailableError } from '../../coordinator/src/errors.js';
import { TransactionLog } from '../../coordinator/src/log/transaction-log.js';
import { insertTransactionWrite } from '../../coordinator/src/log/transitions/insertTransaction.js';
import { markCommitting } from '../../coordinator/src/log/transitions/markCommitting.js';
import { recordRoundFailure } from '../../coordinator/src/log/transitions/recordRoundFailure.js';
import { branchRecord, txRecord } from '../support/records.js';
import { freshDatabase, storeKinds, type FreshDatabase } from '../support/services.js';
import { xid as newXid } from './api.fixture.js';

// The reply to a batch's COMMIT is lost (the connection drops after the server got it):
// the batch may well have committed. Replaying its writes one at a time would count each
// failed round twice and write its attempt history twice; the log must not.
const serverStores = (await storeKinds(['mysql', 'postgres'])).filter((k) => k !== 'sqlite');

/** A TCP proxy to the database that, once armed, lets the next COMMIT through and cuts the connection before its reply. */
async function commitCutter(target: { host: string; port: number }) {
  let armed = false;
  let cuts = 0;
  const server: Server = createServer((client: Socket) => {
    const upstream = connect(target.port, target.host);
    upstream.on('data', (d) => client.write(d));
    client.on('data', (d: Buffer) => {
      upstream.write(d);
      // the COMMIT statement itself (MySQL's COM_QUERY, PostgreSQL's simple query), not READ COMMITTED
      if (armed && /COMMIT;?\x00?$/.test(d.toString('latin1'))) {
        armed = false;
        cuts++;
        // the server receives and applies the COMMIT; its answer never reaches the client
        upstream.removeAllListeners('data');
        setTimeout(() => {
          client.destroy();
          upstream.destroy();
        }, 100);
      }
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    arm: () => (armed = true),
    get cuts() {
      return cuts;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.each(serverStores)('a lost reply to a batch COMMIT on %s', (kind) => {
  let db: FreshDatabase;
  let log: TransactionLog;
  let direct: TransactionLog;
  let cutter: Awaited<ReturnType<typeof commitCutter>>;

  beforeAll(async () => {
    db = await freshDatabase(kind, 'commitlost');
    const url = new URL(db.url);
    cutter = await commitCutter({ host: url.hostname, port: Number(url.port) });
    url.port = String(cutter.port);
    direct = await TransactionLog.open(db.url);
    log = await TransactionLog.open(url.toString(), { migrate: false });
  });
  afterAll(async () => {
    await log?.close();
    await direct?.close();
    await cutter?.close();
    await db?.drop();
  });

  test('the writes answer STORE_UNAVAILABLE, and what committed is counted once: no replay doubles it', async () => {
    const now = Date.now();
    const xids = Array.from({ length: 5 }, () => newXid('lost'));
    for (const x of xids) {
      await direct.apply(insertTransactionWrite, { tx: txRecord(x), branches: [branchRecord(x, 'a')] });
      await direct.write((trx) => markCommitting(trx, x, now, now + 60_000));
    }
    cutter.arm();
    const results = await Promise.allSettled(
      xids.map((x) =>
        log.write((trx) =>
          recordRoundFailure(trx, {
            xid: x,
            from: 'committing',
            done: [],
            failures: [{ branchId: 'a', error: 'HTTP 503' }],
            plan: { finished: false, attempts: 1, stuck: false, nextRetryAt: now + 1000, lastError: 'confirm a: HTTP 503' },
            calls: [{ xid: x, branchId: 'a', phase: 'confirm', attempt: 1, at: now, durationMs: 3, httpStatus: 503, ok: false, error: 'HTTP 503' }],
            now,
          }),
        ),
      ),
    );
    expect(cutter.cuts).toBe(1);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    }
    // the COMMIT went through: each round counted once, each call in the history once
    const branches = await direct.knex('dtx_branch').whereIn('xid', xids).select('attempts');
    expect(branches.map((b: { attempts: number }) => Number(b.attempts))).toEqual([1, 1, 1, 1, 1]);
    const history = await direct.knex('dtx_attempt').whereIn('xid', xids).count({ n: '*' });
    expect(Number(history[0]!.n)).toBe(5);
  });
});
