import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { ensureBarrierRows, insertOnce } from './barrier-rows.js';

/** The saga lane's accounts at one wallet: `s<wallet><n>`, apart from the TCC lanes' accounts. */
export const SAGA_ACCOUNTS = { a: ['sa0', 'sa1', 'sa2', 'sa3'], b: ['sb0', 'sb1', 'sb2', 'sb3'] } as const;
export const SAGA_OPENING_BALANCE = 1000;

interface StepBody {
  xid: string;
  branchId: string;
  payload: { account: string; amount: number };
}

/** A refusal by the business: the local transaction rolls back and the coordinator gets 409. */
class Refused extends Error {}

/**
 * The saga lane's participant, in a soak wallet's process and database: `POST
 * /saga/{debit,credit}/{action,compensate}` (PROTOCOL.md v1.2 "Saga"). The barrier rule is
 * the one the protocol gives participants (the SDK's saga support is being written
 * elsewhere): each call's business change commits with its barrier row, a repeat answers
 * 2xx without a second change, a compensation before its action is empty and marks the
 * action so that a late one is refused. Every change is also journalled in `saga_moves`,
 * which is how the soak counts how many times each step was applied and compensated.
 */
export async function addSagaRoutes(app: FastifyInstance, knex: Knex, accounts: readonly string[]): Promise<void> {
  await ensureSagaTables(knex, accounts);
  app.post<{ Params: { step: string; phase: string }; Body: StepBody }>('/saga/:step/:phase', async (req, reply) => {
    const { step, phase } = req.params;
    const { xid, branchId, payload } = req.body;
    if ((step !== 'debit' && step !== 'credit') || (phase !== 'action' && phase !== 'compensate')) return reply.code(404).send({ error: 'no such saga route' });
    const sign = step === 'debit' ? -1 : 1;
    try {
      const answer = await knex.transaction(async (trx) => {
        const key = { xid, branch_id: branchId };
        if (phase === 'action') {
          if (!(await insertOnce(trx, 'saga_barrier', { ...key, op: 'action', reason: 'action' }))) {
            const row = (await trx('saga_barrier').where({ ...key, op: 'action' }).first('reason')) as { reason: string };
            if (row.reason === 'compensate') throw new Refused('compensated before this action arrived');
            return { repeated: true };
          }
          const q = trx('saga_accounts').where('id', payload.account);
          const moved = await (sign < 0 ? q.andWhere('balance', '>=', payload.amount) : q).update({ balance: trx.raw('balance + ?', [sign * payload.amount]) });
          if (moved !== 1) throw new Refused(`${step} of ${payload.amount} refused at ${payload.account}`);
          await trx('saga_moves').insert({ ...key, kind: 'action', account: payload.account, delta: sign * payload.amount });
          return { moved: payload.amount };
        }
        if (!(await insertOnce(trx, 'saga_barrier', { ...key, op: 'compensate', reason: 'compensate' }))) return { repeated: true };
        // the action's row, taken by this compensation: its action never ran, and never will
        if (await insertOnce(trx, 'saga_barrier', { ...key, op: 'action', reason: 'compensate' })) return { empty: true };
        // saga compensations are not isolated: a credit undone after its money moved on may go below zero
        await trx('saga_accounts').where('id', payload.account).update({ balance: trx.raw('balance - ?', [sign * payload.amount]) });
        await trx('saga_moves').insert({ ...key, kind: 'compensate', account: payload.account, delta: -sign * payload.amount });
        return { undone: payload.amount };
      });
      return answer;
    } catch (err) {
      if (err instanceof Refused) return reply.code(409).send({ error: { code: 'REFUSED', message: err.message } });
      throw err; // 500: the coordinator retries
    }
  });
}

async function ensureSagaTables(knex: Knex, accounts: readonly string[]): Promise<void> {
  if (!(await knex.schema.hasTable('saga_accounts'))) {
    await knex.schema.createTable('saga_accounts', (t) => {
      t.string('id', 16).primary();
      t.bigInteger('balance').notNullable();
    });
  }
  await ensureBarrierRows(knex, 'saga_barrier');
  if (!(await knex.schema.hasTable('saga_moves'))) {
    await knex.schema.createTable('saga_moves', (t) => {
      t.increments('id');
      t.string('xid', 128).notNullable();
      t.string('branch_id', 64).notNullable();
      t.string('kind', 16).notNullable();
      t.string('account', 16).notNullable();
      t.bigInteger('delta').notNullable();
    });
  }
  for (const id of accounts) await insertOnce(knex, 'saga_accounts', { id, balance: SAGA_OPENING_BALANCE });
}
