// Experiment (issue 5): how many driven transactions per second can ONE log connection
// record (3 group commits of B transactions: begin, try results + decision, finish),
// with today's per-transaction statements vs coalesced multi-row statements?
import knexF from 'knex';
import { newXid } from '@dtx/protocol';
import { readFileSync } from 'node:fs';

// Usage: node --import tsx bench/experiments/log-capacity.ts [batch=32] [rounds=60]
// Uses (and drops) its own database dtx_logcap on DTX_BENCH_DATABASE_URL's server.
const server = new URL(process.env.DTX_BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/dtx_bench');
server.pathname = '/';
const url = new URL('/dtx_logcap', server).toString();
const admin = knexF({ client: 'mysql2', connection: server.toString(), pool: { min: 0, max: 1 } });
await admin.raw('DROP DATABASE IF EXISTS dtx_logcap');
await admin.raw('CREATE DATABASE dtx_logcap');
await admin.destroy();
const knex = knexF({ client: 'mysql2', connection: { uri: url, dateStrings: true } as never, pool: { min: 1, max: 1 } });
for (const s of readFileSync(new URL('../../sql/mysql/0001_log.sql', import.meta.url), 'utf8').replace(/--.*$/gm, '').split(/;\s*\n/).map((x) => x.trim()).filter(Boolean)) await knex.raw(s);
await knex.raw('ALTER TABLE dtx_global_tx ADD COLUMN failed_tries INT NOT NULL DEFAULT 0');

const B = Number(process.argv[2] ?? 32);
const ROUNDS = Number(process.argv[3] ?? 60);
const lease = 10_000;
function txRow(xid: string, now: number) {
  return { xid, status: 'trying', stuck: 0, reason: null, timeout_ms: 60000, branch_order: 'parallel', attempts: 0, next_retry_at: now + 60000, last_error: null, meta: null, created_at: now, updated_at: now, deadline: now + 60000, finished_at: null };
}
function brRow(xid: string, id: string, seq: number, now: number) {
  const base = `http://127.0.0.1:4001/dtx/bench.${id}`;
  return { xid, branch_id: id, seq, action: `bench.${id}`, try_url: `${base}/try`, confirm_url: `${base}/confirm`, cancel_url: `${base}/cancel`, payload: '{"amount":1}', try_result: null, timeout_ms: null, status: 'registered', attempts: 0, last_error: null, created_at: now, updated_at: now };
}

async function today(xids: string[]) {
  const now = Date.now();
  await knex.transaction(async (trx) => {
    for (const x of xids) {
      await trx('dtx_global_tx').insert(txRow(x, now));
      await trx('dtx_branch').insert([brRow(x, 'a', 1, now), brRow(x, 'b', 2, now)]);
    }
  });
  await knex.transaction(async (trx) => {
    for (const x of xids) {
      for (const id of ['a', 'b']) await trx('dtx_branch').where({ xid: x, branch_id: id }).whereIn('status', ['registered', 'tried', 'try_failed']).update({ status: 'tried', try_result: '{}', last_error: null, updated_at: now });
      const won = await trx('dtx_global_tx').where({ xid: x, status: 'trying' }).andWhere('deadline', '>', now)
        .whereNotExists(trx('dtx_branch').select(trx.raw('1')).where({ xid: x, status: 'try_failed' }))
        .update({ status: 'committing', next_retry_at: now + lease, updated_at: now });
      if (won !== 1) throw new Error('lost');
    }
  });
  await knex.transaction(async (trx) => {
    for (const x of xids) {
      await trx('dtx_branch').where({ xid: x }).whereIn('branch_id', ['a', 'b']).whereNotIn('status', ['confirmed', 'cancelled']).update({ status: 'confirmed', last_error: null, updated_at: now });
      const f = await trx('dtx_global_tx').where({ xid: x, status: 'committing' }).update({ status: 'committed', next_retry_at: null, stuck: 0, finished_at: now, updated_at: now });
      if (f !== 1) throw new Error('not finished');
    }
  });
}

async function coalesced(xids: string[]) {
  const now = Date.now();
  const pairs: [string, string][] = xids.flatMap((x): [string, string][] => [[x, 'a'], [x, 'b']]);
  const pairSql = pairs.map(() => '(?, ?)').join(', ');
  const inSql = xids.map(() => '?').join(', ');
  await knex.transaction(async (trx) => {
    await trx('dtx_global_tx').insert(xids.map((x) => txRow(x, now)));
    await trx('dtx_branch').insert(xids.flatMap((x) => [brRow(x, 'a', 1, now), brRow(x, 'b', 2, now)]));
  });
  await knex.transaction(async (trx) => {
    // try results: one statement, per-row values by CASE on the key
    const cases = pairs.map(() => 'WHEN xid = ? AND branch_id = ? THEN ?').join(' ');
    await trx.raw(
      `UPDATE dtx_branch SET status = 'tried', try_result = CASE ${cases} END, last_error = NULL, updated_at = ? WHERE (xid, branch_id) IN (${pairSql}) AND status IN ('registered', 'tried', 'try_failed')`,
      [...pairs.flatMap(([x, id]) => [x, id, '{}']), now, ...pairs.flat()],
    );
    const won = await trx.raw(
      `UPDATE dtx_global_tx SET status = 'committing', next_retry_at = ?, updated_at = ? WHERE xid IN (${inSql}) AND status = 'trying' AND deadline > ? AND failed_tries = 0`,
      [now + lease, now, ...xids, now],
    );
    if (won[0].affectedRows !== xids.length) throw new Error('some lost: fall back to per-xid reads');
  });
  await knex.transaction(async (trx) => {
    await trx.raw(`UPDATE dtx_branch SET status = 'confirmed', last_error = NULL, updated_at = ? WHERE (xid, branch_id) IN (${pairSql}) AND status NOT IN ('confirmed', 'cancelled')`, [now, ...pairs.flat()]);
    const f = await trx.raw(`UPDATE dtx_global_tx SET status = 'committed', next_retry_at = NULL, stuck = 0, finished_at = ?, updated_at = ? WHERE xid IN (${inSql}) AND status = 'committing'`, [now, now, ...xids]);
    if (f[0].affectedRows !== xids.length) throw new Error('not finished');
  });
}

for (const [name, fn] of [['today', today], ['coalesced', coalesced], ['today', today], ['coalesced', coalesced]] as const) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let r = 0; r < ROUNDS; r++) await fn(Array.from({ length: B }, () => newXid()));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const n = B * ROUNDS;
  console.log(`${name.padEnd(10)} B=${B}: ${(n / (ms / 1000)).toFixed(0)} tx/s on one connection, node CPU ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms/tx, ${(ms / ROUNDS / 3).toFixed(1)} ms per batch`);
}
await knex.raw('DROP DATABASE dtx_logcap');
await knex.destroy();
