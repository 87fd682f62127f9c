import { newXid } from '@dtx/protocol';

/** What the bench needs from the log's database server, MySQL (mysql.ts) or PostgreSQL (postgres.ts). */
export interface StoreAdmin {
  /** 'MySQL' or 'PostgreSQL', for the table's columns. */
  readonly label: string;
  /** One line: the server's version and its durability setting, with a warning when commits are not durable. */
  describe(): Promise<string>;
  /** Drops and recreates a database the bench owns. */
  recreate(name: string): Promise<void>;
  drop(name: string): Promise<void>;
  /** The server's durable commits so far (see the bench README for what each server counts); null without a server. */
  commits(): Promise<number | null>;
  /** CPU seconds the server's processes have used so far, when it runs on this host; else null. */
  cpuSeconds(): Promise<number | null>;
  /** Fills the migrated log with `count` committed transactions of two branches each. */
  preload(databaseUrl: string, count: number, onProgress?: (done: number) => void): Promise<void>;
  /** The recovery sweep's own query (findDue's) explained on the log database `db`, after fresh statistics. */
  sweepPlan(db: string): Promise<string>;
  close(): Promise<void>;
}

export type StoreKind = 'mysql' | 'postgres' | 'sqlite';

/** A preloaded transaction's rows (committed, two confirmed branches), as column-ordered values. */
export function preloadRows(xid: string, t: number): { tx: unknown[]; branches: unknown[][] } {
  return {
    tx: [xid, 'committed', 0, null, 60_000, 'parallel', 0, null, null, null, t, t + 5, t + 60_000, t + 5],
    branches: (
      [
        ['a', 'bench.a', 4001, 1],
        ['b', 'bench.b', 4002, 2],
      ] as const
    ).map(([branchId, action, port, seq]) => {
      const base = `http://127.0.0.1:${port}/dtx/${action}`;
      return [xid, branchId, seq, action, `${base}/try`, `${base}/confirm`, `${base}/cancel`, '{"amount":1}', '{}', null, 'confirmed', 0, null, t, t + 5];
    }),
  };
}

/**
 * The preload's loop, for either server: four writers, each taking the next batch of
 * `batch` transactions (in the past, one ms apart, so their xids are unique and sorted)
 * and handing their rows to `write`, which inserts them in one database transaction.
 */
export async function preloadInBatches(
  count: number,
  batch: number,
  write: (txRows: unknown[][], branchRows: unknown[][]) => Promise<void>,
  onProgress?: (done: number) => void,
): Promise<void> {
  const start = Date.now() - count - 86_400_000;
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const from = next;
      const to = Math.min(count, from + batch);
      next = to;
      const txRows: unknown[][] = [];
      const branchRows: unknown[][] = [];
      for (let i = from; i < to; i++) {
        const rows = preloadRows(newXid(start + i), start + i);
        txRows.push(rows.tx);
        branchRows.push(...rows.branches);
      }
      await write(txRows, branchRows);
      done += to - from;
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

export const TX_COLUMNS = 'xid, status, stuck, reason, timeout_ms, branch_order, attempts, next_retry_at, last_error, meta, created_at, updated_at, deadline, finished_at';
export const BRANCH_COLUMNS = 'xid, branch_id, seq, action, try_url, confirm_url, cancel_url, payload, try_result, timeout_ms, status, attempts, last_error, created_at, updated_at';

/** `url` with its database name replaced by `name`. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
