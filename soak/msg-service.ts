import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { ensureBarrierRows, insertOnce } from './barrier-rows.js';

/** The barrier key of a message's local transaction (PROTOCOL.md v1.2 "Message"): branch `msg`, op `msg`. */
const MSG_ROW = { branch_id: 'msg', op: 'msg' } as const;

/**
 * The message lane's producer and consumer, in a soak wallet's process and database
 * (the SDK's message support is being written elsewhere):
 *
 * - `POST /msg/local` `{ xid, amount, fail }`: the producer's local transaction. It
 *   records the order and the message's barrier row in one database transaction; `fail`
 *   makes the business fail after both writes, so the transaction rolls back. 409 when
 *   the check route already answered for this xid (the barrier row is taken).
 * - `POST /msg/check`: the coordinator's check-back. In one statement it takes the
 *   barrier row for a rollback unless the local transaction's row is there, then answers
 *   200 (the local transaction committed) or 409 (it did not, and now never will: a
 *   later local transaction fails on that row). Both rows share one key, the reason
 *   telling them apart, so the database itself orders the two.
 * - `POST /msg/deliver/action`: a consumer step. It keeps each (xid, step) in `msg_inbox`
 *   once; a repeated delivery answers 200 without a second row.
 */
export async function addMsgRoutes(app: FastifyInstance, knex: Knex): Promise<void> {
  await ensureMsgTables(knex);
  app.post<{ Body: { xid: string; amount: number; fail?: boolean } }>('/msg/local', async (req, reply) => {
    const { xid, amount, fail } = req.body;
    const failed = new Error('the producer\'s business failed');
    try {
      await knex.transaction(async (trx) => {
        if (!(await insertOnce(trx, 'msg_barrier', { xid, ...MSG_ROW, reason: 'msg' }))) throw new Taken();
        await trx('msg_orders').insert({ xid, amount });
        if (fail) throw failed;
      });
      return { committed: true };
    } catch (err) {
      if (err instanceof Taken) return reply.code(409).send({ error: { code: 'CHECKED', message: 'the check-back already rolled this message back' } });
      if (err === failed) return reply.code(422).send({ error: { code: 'FAILED', message: failed.message } });
      throw err;
    }
  });
  app.post<{ Body: { xid: string } }>('/msg/check', async (req, reply) => {
    const { xid } = req.body;
    await insertOnce(knex, 'msg_barrier', { xid, ...MSG_ROW, reason: 'rollback' });
    const row = (await knex('msg_barrier').where({ xid, ...MSG_ROW }).first('reason')) as { reason: string };
    return row.reason === 'msg' ? { committed: true } : reply.code(409).send({ error: { code: 'NOT_COMMITTED', message: 'the local transaction did not commit' } });
  });
  app.post<{ Body: { xid: string; branchId: string; payload: { amount: number } } }>('/msg/deliver/action', async (req) => {
    const { xid, branchId, payload } = req.body;
    const first = await insertOnce(knex, 'msg_inbox', { xid, branch_id: branchId, amount: payload.amount });
    return { delivered: true, first };
  });
}

/** The barrier row was there before the local transaction's insert. */
class Taken extends Error {}

async function ensureMsgTables(knex: Knex): Promise<void> {
  await ensureBarrierRows(knex, 'msg_barrier');
  if (!(await knex.schema.hasTable('msg_orders'))) {
    await knex.schema.createTable('msg_orders', (t) => {
      t.string('xid', 128).primary();
      t.bigInteger('amount').notNullable();
    });
  }
  if (!(await knex.schema.hasTable('msg_inbox'))) {
    await knex.schema.createTable('msg_inbox', (t) => {
      t.string('xid', 128).notNullable();
      t.string('branch_id', 64).notNullable();
      t.bigInteger('amount').notNullable();
      t.primary(['xid', 'branch_id']);
    });
  }
}
