import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { GaleraCluster } from '../test/support/galera.js';
import { cpuSecondsOf } from './processes.js';
import type { StoreAdmin } from './store.js';

/** What the cluster did, summed over its nodes: the replication and certification behind each commit. */
export interface WsrepCounters {
  /** CPU seconds of the three mariadbd processes, and of HAProxy. */
  nodesCpuS: number;
  proxyCpuS: number;
  /** Write sets a node replicated to the others (one per committed write transaction), and their bytes. */
  replicated: number;
  replicatedBytes: number;
  /** Transactions that lost certification to another node's, and local ones aborted by an applied write set. */
  certFailures: number;
  bfAborts: number;
  /** Flow-control pauses the nodes asked for (a node applying too slowly stops the others' commits). */
  flowControlSent: number;
}

const COUNTERS = ['Com_commit', 'wsrep_replicated', 'wsrep_replicated_bytes', 'wsrep_local_cert_failures', 'wsrep_local_bf_aborts', 'wsrep_flow_control_sent'] as const;

/**
 * The log on a MariaDB Galera cluster of the bench's own (test/support/galera.ts: three nodes
 * and HAProxy, first-available, in a temp dir on spare ports), for the galera scenarios; removed
 * by close(). Its nodes run Galera's usual durability: a commit is certified by and copied to
 * every node, and written to no node's disk at commit (innodb_flush_log_at_trx_commit=0).
 */
export class GaleraAdmin implements StoreAdmin {
  readonly label = 'Galera';

  private constructor(
    readonly cluster: GaleraCluster,
    private readonly conns: mysql.Connection[],
  ) {}

  static async start(): Promise<GaleraAdmin> {
    const cluster = await GaleraCluster.start({ size: 3, haproxy: true });
    if (!cluster) throw new Error('the galera scenarios need galera-4 and HAProxy (apt-get install galera-4 haproxy rsync)');
    try {
      const conns = await Promise.all(cluster.nodes.map((_, i) => mysql.createConnection({ uri: cluster.url(i, '') })));
      // a bench that dies takes the cluster's servers with it (close() removes them, and their directory, on every other path)
      process.once('exit', () => {
        for (const n of cluster.nodes) n.proc?.kill('SIGKILL');
        spawnSync('pkill', ['-KILL', '-f', join(cluster.dir, 'haproxy.cfg')]);
      });
      return new GaleraAdmin(cluster, conns);
    } catch (err) {
      await cluster.remove();
      throw err;
    }
  }

  /** Where a coordinator reaches the log `db`: through HAProxy, or straight to node `i`. */
  url(via: 'proxy' | number, db: string): string {
    return via === 'proxy' ? this.cluster.proxyUrl(db) : this.cluster.url(via, db);
  }

  async describe(): Promise<string> {
    const [[row]] = (await this.conns[0]!.query("SELECT VERSION() AS v, @@innodb_flush_log_at_trx_commit AS flush, @@wsrep_sync_wait AS syncWait")) as unknown as [{ v: string; flush: number }[]];
    return `Galera cluster of ${this.conns.length} MariaDB ${row!.v} nodes behind HAProxy (balance first) at ${new URL(this.cluster.proxyUrl('')).host}, innodb_flush_log_at_trx_commit=${row!.flush} on each (durable by replication to every node, not by a disk write at commit)`;
  }

  async recreate(name: string): Promise<void> {
    await this.conns[0]!.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await this.conns[0]!.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  }

  async drop(name: string): Promise<void> {
    await this.conns[0]!.query(`DROP DATABASE IF EXISTS \`${name}\``);
  }

  /** COMMIT statements clients ran, on whichever node. */
  async commits(): Promise<number> {
    return (await this.#status()).Com_commit;
  }

  /** The three nodes and HAProxy together. */
  async cpuSeconds(): Promise<number | null> {
    const w = await this.wsrep();
    return w.nodesCpuS + w.proxyCpuS;
  }

  async wsrep(): Promise<WsrepCounters> {
    const s = await this.#status();
    const nodes = await Promise.all(this.cluster.nodes.map((n) => (n.proc?.pid ? cpuSecondsOf(n.proc.pid) : null)));
    const proxy = await haproxyPid(join(this.cluster.dir, 'haproxy.cfg'));
    return {
      nodesCpuS: nodes.reduce<number>((a, b) => a + (b ?? 0), 0),
      proxyCpuS: proxy ? ((await cpuSecondsOf(proxy)) ?? 0) : 0,
      replicated: s.wsrep_replicated,
      replicatedBytes: s.wsrep_replicated_bytes,
      certFailures: s.wsrep_local_cert_failures,
      bfAborts: s.wsrep_local_bf_aborts,
      flowControlSent: s.wsrep_flow_control_sent,
    };
  }

  preload(): Promise<void> {
    return Promise.reject(new Error('--preload fills the run\'s own log, not the Galera scenarios\''));
  }

  async sweepPlan(): Promise<string> {
    return '';
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.conns.map((c) => c.end()));
    await this.cluster.remove();
  }

  /** Each counter summed over the nodes. */
  async #status(): Promise<Record<(typeof COUNTERS)[number], number>> {
    const sum = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<(typeof COUNTERS)[number], number>;
    for (const conn of this.conns) {
      const [rows] = await conn.query(`SHOW GLOBAL STATUS WHERE Variable_name IN (${COUNTERS.map(() => '?').join(', ')})`, [...COUNTERS]);
      for (const r of rows as { Variable_name: string; Value: string }[]) {
        const name = COUNTERS.find((c) => c.toLowerCase() === r.Variable_name.toLowerCase());
        if (name) sum[name] += Number(r.Value);
      }
    }
    return sum;
  }
}

/** The pid of the HAProxy running `cfg` (the cluster's), read from /proc. */
async function haproxyPid(cfg: string): Promise<number | null> {
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('haproxy') && cmdline.includes(cfg)) return Number(entry);
  }
  return null;
}
