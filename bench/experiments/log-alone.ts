// Experiment (issue 5): the coordinator's log path alone, no HTTP. Each simulated
// driven transaction makes the three writes `driven` makes (begin with two branches;
// try results + commit decision; branches confirmed + finished) through the real
// TransactionLog and its group commit, `concurrency` at a time. Prints tx/s, the
// CPU per transaction of this process and of the MariaDB server, and commits per
// transaction: what the log costs apart from the coordinator's HTTP work.
// Usage: node --import tsx bench/experiments/log-alone.ts [transactions=20000] [concurrency=16,64,256]
// Uses (and drops) the database dtx_log_alone on DTX_BENCH_DATABASE_URL's server.
import { newXid } from '@dtx/protocol';
import { newBranchRecord, newTxRecord, type BranchRecord, type TxRecord } from '../../coordinator/src/log/records.js';
import { TransactionLog } from '../../coordinator/src/log/transaction-log.js';
import { insertTransactionWrite } from '../../coordinator/src/log/transitions/insertTransaction.js';
import type { AttemptRecord } from '../../coordinator/src/log/attempt-records.js';
import { finishRoundWrite } from '../../coordinator/src/log/transitions/finishRound.js';
import { commitWrite } from '../../coordinator/src/log/transitions/decide.js';
import { MysqlAdmin } from '../mysql.js';
import { cpuSecondsOf, mysqlServerPid } from '../processes.js';

const server = process.env.DTX_BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/dtx_bench';
const url = Object.assign(new URL(server), { pathname: '/dtx_log_alone' }).toString();
const total = Number(process.argv[2] ?? 20_000);
const levels = (process.argv[3] ?? '16,64,256').split(',').map(Number);

function records(now: number): { tx: TxRecord; branches: BranchRecord[] } {
  const xid = newXid(now);
  const tx = newTxRecord({ xid, timeoutMs: 60_000, order: 'parallel', metaJson: null, now });
  const branch = (branchId: string, seq: number): BranchRecord => {
    const base = `http://127.0.0.1:4001/dtx/bench.${branchId}`;
    return newBranchRecord({ xid, branchId, seq, action: `bench.${branchId}`, tryUrl: `${base}/try`, confirmUrl: `${base}/confirm`, cancelUrl: `${base}/cancel`, payloadJson: '{"amount":1}', timeoutMs: null }, now);
  };
  return { tx, branches: [branch('a', 1), branch('b', 2)] };
}

/** One transaction's three log writes; a turn of the event loop between them stands in for the HTTP calls. */
async function oneTransaction(log: TransactionLog): Promise<void> {
  const { tx, branches } = records(Date.now());
  const xid = tx.xid;
  await log.apply(insertTransactionWrite, { tx, branches });
  await new Promise((r) => setImmediate(r));
  // each call as the attempt history keeps it, written inside the same two writes
  const call = (branchId: string, phase: AttemptRecord['phase']): AttemptRecord => ({ xid, branchId, phase, attempt: 1, at: Date.now(), durationMs: 1, httpStatus: 200, ok: true, error: null });
  const tries = branches.map((b) => ({ xid, branchId: b.branchId, resultJson: '{}' }));
  const d = await log.apply(commitWrite, { xid, now: Date.now(), leaseMs: 10_000, tries, calls: branches.map((b) => call(b.branchId, 'try')) });
  if (!d.won) throw new Error(`${xid}: commit lost`);
  await new Promise((r) => setImmediate(r));
  if (!(await log.apply(finishRoundWrite, { xid, from: 'committing', done: ['a', 'b'], calls: [call('a', 'confirm'), call('b', 'confirm')], now: Date.now() }))) throw new Error(`${xid}: not finished`);
}

const admin = await MysqlAdmin.connect(server);
const mysqlPid = await mysqlServerPid();
try {
  await admin.recreate('dtx_log_alone');
  const log = await TransactionLog.open(url);
  try {
    console.log('concurrency  tx/s  commits/tx  this process CPU ms/tx  MariaDB CPU ms/tx');
    for (const concurrency of levels) {
      let started = 0;
      const commits0 = log.batcher.commits;
      const cpu0 = process.cpuUsage();
      const db0 = mysqlPid ? await cpuSecondsOf(mysqlPid) : null;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => { while (started++ < total) await oneTransaction(log); }));
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const db1 = mysqlPid ? await cpuSecondsOf(mysqlPid) : null;
      const dbMs = db0 === null || db1 === null ? '–' : (((db1 - db0) * 1000) / total).toFixed(3);
      console.log(`${String(concurrency).padStart(11)} ${(total / seconds).toFixed(0).padStart(5)} ${((log.batcher.commits - commits0) / total).toFixed(3).padStart(11)} ${((cpu.user + cpu.system) / 1000 / total).toFixed(3).padStart(23)} ${dbMs.padStart(18)}`);
    }
  } finally {
    await log.close();
  }
} finally {
  await admin.drop('dtx_log_alone').catch(() => {});
  await admin.close();
}
