import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import knexFactory, { type Knex } from 'knex';

/**
 * A bank written as a DTM user writes a participant, for the compat tests: a plain HTTP
 * service with DTM's barrier semantics (a `barrier` table keyed on the query parameters
 * DTM sends: gid, branch_id, op), in MariaDB. Cancel and compensate first insert their
 * origin op's row: inserted means the origin never ran (null compensation, 200 with no
 * effect) and blocks it from running later; a row already there for the current op means
 * a duplicate or a dangling call (200, no effect), as DTM's barrier answers.
 *
 * Routes, amounts in the raw JSON body `{"from","to","amount"}`:
 * TCC `/tcc/out` (try debits `from`, refused 409 when short; cancel refunds; confirm none)
 * and `/tcc/in` (confirm credits `to`; try and cancel none); saga `/saga/out` (action
 * debits, compensate refunds) and `/saga/in` (action credits, compensate debits back).
 * `faults` makes calls fail at random: before the business (500), or after it committed
 * with the answer lost (500), or a business refusal (409) of an incoming transfer.
 */
export class DtmBarrierBank {
  #server: Server | null = null;
  url = '';
  readonly stats = { calls: 0, faults: 0 };

  constructor(
    readonly db: Knex,
    readonly faults: { before: number; after: number; refuseIn: number },
    readonly random: () => number = Math.random,
  ) {}

  static async open(url: string, faults: DtmBarrierBank['faults']): Promise<DtmBarrierBank> {
    const db = knexFactory({ client: 'mysql2', connection: url, pool: { min: 0, max: 16 } });
    await db.raw('CREATE TABLE account (id VARCHAR(16) PRIMARY KEY, balance BIGINT NOT NULL)');
    await db.raw(
      'CREATE TABLE barrier (gid VARCHAR(128) NOT NULL, branch_id VARCHAR(64) NOT NULL, op VARCHAR(16) NOT NULL, reason VARCHAR(16) NOT NULL, PRIMARY KEY (gid, branch_id, op))',
    );
    return new DtmBarrierBank(db, faults);
  }

  async seed(balances: Record<string, number>): Promise<void> {
    await this.db('account').insert(Object.entries(balances).map(([id, balance]) => ({ id, balance })));
  }

  async balances(): Promise<Record<string, number>> {
    const rows: { id: string; balance: number | string }[] = await this.db('account').select();
    return Object.fromEntries(rows.map((r) => [r.id, Number(r.balance)]));
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://bank');
        const answer = (status: number) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ dtm_result: status === 200 ? 'SUCCESS' : status === 409 ? 'FAILURE' : 'ERROR' }));
        this.handle(u.pathname, u.searchParams, Buffer.concat(chunks).toString()).then(answer, () => answer(500));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async handle(path: string, q: URLSearchParams, raw: string): Promise<number> {
    this.stats.calls++;
    if (this.random() < this.faults.before) return this.fault();
    const { from, to, amount } = JSON.parse(raw) as { from: string; to: string; amount: number };
    const op = q.get('op') ?? '';
    const business = this.#business(path, op, { from, to, amount });
    if (business === undefined) return 404;
    if ((op === 'try' || op === 'action') && path.endsWith('/in') && this.random() < this.faults.refuseIn) return 409;
    const status = await this.db
      .transaction(async (trx) => {
        const origin = op === 'cancel' ? 'try' : op === 'compensate' ? 'action' : null;
        const key = { gid: q.get('gid')!, branch_id: q.get('branch_id')! };
        const originInserted = origin !== null && (await insertIgnore(trx, { ...key, op: origin, reason: op }));
        const currentInserted = await insertIgnore(trx, { ...key, op, reason: op });
        if (!currentInserted || originInserted) return 200; // duplicate, dangling, or null compensation
        const done = await business(trx);
        // a refused business rolls its barrier rows back with it, as DTM's barrier does
        if (done !== 200) throw new Refused(done);
        return done;
      })
      .catch((err: unknown) => {
        if (err instanceof Refused) return err.status;
        throw err;
      });
    if (status === 200 && this.random() < this.faults.after) return this.fault(); // done, answer lost
    return status;
  }

  fault(): number {
    this.stats.faults++;
    return 500;
  }

  #business(path: string, op: string, t: { from: string; to: string; amount: number }): ((trx: Knex.Transaction) => Promise<number>) | undefined {
    const add = async (trx: Knex.Transaction, id: string, delta: number) => {
      await trx('account').where({ id }).increment('balance', delta);
      return 200;
    };
    const debit = async (trx: Knex.Transaction) => ((await trx('account').where({ id: t.from }).andWhere('balance', '>=', t.amount).decrement('balance', t.amount)) === 1 ? 200 : 409);
    const none = async () => 200;
    const table: Record<string, Record<string, (trx: Knex.Transaction) => Promise<number>>> = {
      '/tcc/out': { try: debit, confirm: none, cancel: (trx) => add(trx, t.from, t.amount) },
      '/tcc/in': { try: none, confirm: (trx) => add(trx, t.to, t.amount), cancel: none },
      '/saga/out': { action: debit, compensate: (trx) => add(trx, t.from, t.amount) },
      '/saga/in': { action: (trx) => add(trx, t.to, t.amount), compensate: (trx) => add(trx, t.to, -t.amount) },
    };
    return table[path]?.[op];
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    await this.db.destroy();
  }
}

class Refused extends Error {
  constructor(readonly status: number) {
    super(`refused with ${status}`);
  }
}

async function insertIgnore(trx: Knex.Transaction, row: { gid: string; branch_id: string; op: string; reason: string }): Promise<boolean> {
  const [result] = (await trx.raw('INSERT IGNORE INTO barrier (gid, branch_id, op, reason) VALUES (?, ?, ?, ?)', [row.gid, row.branch_id, row.op, row.reason])) as [{ affectedRows: number }];
  return result.affectedRows === 1;
}
