import { setTimeout as sleep } from 'node:timers/promises';
import type { Child } from './processes.js';

/** The node arguments that load the counter into a process (the coordinator, after tsx). */
export const LOG_COUNTER = ['--import', './bench/log-counter.ts'];
/** The start of the line the counter prints on SIGUSR2: `${COUNTS_LINE} #<n> {json}`. */
export const COUNTS_LINE = 'bench log counts';

/** Since the coordinator started: the log writes it asked for, and the statements its knex ran, by lower-case first keyword. */
export interface LogCounts {
  writes: number;
  statements: Record<string, number>;
}

const asked = new WeakMap<Child, number>();

/** Asks the coordinator (started with LOG_COUNTER) for its counts so far. */
export async function logCounts(c: Child, timeoutMs = 5000): Promise<LogCounts> {
  const n = (asked.get(c) ?? 0) + 1;
  asked.set(c, n);
  c.proc.kill('SIGUSR2');
  const line = new RegExp(`^${COUNTS_LINE} #${n} (\\{.*\\})$`, 'm');
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(20)) {
    const m = line.exec(c.output());
    if (m) return JSON.parse(m[1]!) as LogCounts;
  }
  throw new Error(`${c.name} did not print its log counts (#${n}) within ${timeoutMs} ms: was it started with ${LOG_COUNTER.join(' ')}?`);
}

/** What each count grew by from `before` to `after`, per transaction (kinds that did not grow left out). */
export function growthPerTx(before: LogCounts, after: LogCounts, txs: number): LogCounts {
  const statements = Object.entries(after.statements).map(([kind, n]) => [kind, (n - (before.statements[kind] ?? 0)) / txs] as const);
  return { writes: (after.writes - before.writes) / txs, statements: Object.fromEntries(statements.filter(([, n]) => n !== 0)) };
}
