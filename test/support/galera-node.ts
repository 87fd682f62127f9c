import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';

/** Where Debian's galera-4 puts the wsrep provider. */
export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';
export const MARIADBD = '/usr/sbin/mariadbd';
/** The user the servers run as when the tests run as root. */
export const USER = process.getuid?.() === 0 ? 'mysql' : (process.env.USER ?? 'mysql');

export interface NodePorts {
  sql: number;
  /** Group communication (gmcast), incremental state transfer, full state transfer (rsync). */
  group: number;
  ist: number;
  sst: number;
}

/** One MariaDB server of a GaleraCluster, in its own directory under the cluster's. */
export class GaleraNode {
  proc: ChildProcess | null = null;
  constructor(
    readonly index: number,
    readonly dir: string,
    readonly ports: NodePorts,
  ) {}

  url(database = ''): string {
    return `mysql://root@127.0.0.1:${this.ports.sql}/${database}`;
  }

  /** Runs statements as root over the node's socket (before root may connect over TCP). */
  sql(statements: string): void {
    execFileSync('mariadb', ['--no-defaults', '-uroot', `--socket=${join(this.dir, 'sock')}`, '-e', statements], { stdio: 'ignore' });
  }

  /** How many incremental state transfers this node has received, by its error log. */
  istCount(): number {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8').split('WSREP: IST received').length - 1;
    } catch {
      return 0;
    }
  }

  /** `uuid:seqno` of the last transaction this node's InnoDB committed, or null when it cannot say. */
  recoverPosition(group: string): string | null {
    const log = join(this.dir, 'recover.log');
    rmSync(log, { force: true });
    try {
      execFileSync(MARIADBD, [...this.args(group).filter((a) => !a.startsWith('--log-error=')), `--log-error=${log}`, '--wsrep-recover'], { stdio: 'ignore', timeout: 60_000 });
      const found = /WSREP: Recovered position: ([0-9a-f-]{36}:\d+)/.exec(readFileSync(log, 'utf8'));
      return found?.[1] ?? null;
    } catch {
      return null;
    }
  }

  /** The server's command line; `group` lists every node's group address (`host:port,…`). */
  args(group: string): string[] {
    const data = join(this.dir, 'data');
    const provider = [
      `base_port=${this.ports.group}`,
      `gmcast.listen_addr=tcp://127.0.0.1:${this.ports.group}`,
      `ist.recv_addr=127.0.0.1:${this.ports.ist}`,
      'gcache.size=32M',
      // a killed peer is noticed within a few seconds, not the default ~10 s
      'evs.suspect_timeout=PT3S',
      'evs.inactive_timeout=PT5S',
      'evs.install_timeout=PT5S',
    ].join(';');
    return [
      '--no-defaults',
      `--user=${USER}`,
      `--datadir=${data}`,
      `--socket=${join(this.dir, 'sock')}`,
      `--pid-file=${join(this.dir, 'pid')}`,
      `--log-error=${join(this.dir, 'error.log')}`,
      `--port=${this.ports.sql}`,
      '--bind-address=127.0.0.1',
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--innodb-flush-log-at-trx-commit=0',
      '--sync-binlog=0',
      '--binlog-format=ROW',
      '--default-storage-engine=InnoDB',
      '--innodb-autoinc-lock-mode=2',
      '--performance-schema=OFF',
      '--wsrep-on=ON',
      `--wsrep-provider=${GALERA_PROVIDER}`,
      '--wsrep-cluster-name=dtx-test',
      `--wsrep-cluster-address=gcomm://${group}`,
      `--wsrep-node-address=127.0.0.1:${this.ports.group}`,
      `--wsrep-node-incoming-address=127.0.0.1:${this.ports.sql}`,
      `--wsrep-node-name=node${this.index}`,
      `--wsrep-provider-options=${provider}`,
      '--wsrep-sst-method=rsync',
      `--wsrep-sst-receive-address=127.0.0.1:${this.ports.sst}`,
    ];
  }
}

/** Resolves once `url` answers (and, with `synced`, once the node is a synced member of the primary component). */
export async function waitForSql(url: string, proc: ChildProcess, what: string, synced = false): Promise<void> {
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    try {
      const conn = await createConnection({ uri: url, connectTimeout: 1000 });
      try {
        const [rows] = await conn.query("SHOW STATUS LIKE 'wsrep_local_state_comment'");
        if (!synced || (rows as { Value: string }[])[0]?.Value === 'Synced') return;
      } finally {
        await conn.end();
      }
    } catch (err) {
      if (i > 1200) throw new Error(`${what} did not start: ${String(err)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
