import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { freePort } from './free-port.js';
import { GALERA_PROVIDER, GaleraNode, MARIADBD, USER, waitForSql } from './galera-node.js';
import { GaleraSyncedCheck } from './galera-synced-check.js';

export { GALERA_PROVIDER } from './galera-node.js';
const HAPROXY = '/usr/sbin/haproxy';

export const galeraInstalled = () => existsSync(GALERA_PROVIDER) && existsSync(MARIADBD);
export const haproxyInstalled = () => existsSync(HAPROXY);

/**
 * A MariaDB Galera cluster of the test's own: `size` nodes on 127.0.0.1 in a temp dir, on free
 * ports, the first bootstrapping the cluster and the others joining it by full state transfer
 * (rsync). Tuned to start fast and forget on a crash what it has not replicated (no fsync, small
 * buffer pool): what survives a node's death is what the other nodes hold, as in production.
 * Optionally HAProxy in front, first-available (every connection goes to the first healthy node,
 * the next one when it dies), which is how a multi-primary cluster avoids cross-node conflicts;
 * with `syncedCheck`, HAProxy asks a Galera-aware check per node (GaleraSyncedCheck) instead of
 * probing the TCP port, so it never sends a client to a donor, a joiner or a node cut off.
 */
export class GaleraCluster {
  #haproxy: ChildProcess | null = null;
  #checks: GaleraSyncedCheck[] = [];
  /** Exits of a node or HAProxy that `kill`/`stopProxy` did not cause (a crash), with the log to look at. */
  readonly crashes: string[] = [];

  private constructor(
    readonly dir: string,
    readonly nodes: GaleraNode[],
    readonly proxyPort: number | null,
  ) {}

  /** Null when galera-4 (or, with `haproxy`, HAProxy) is not installed. */
  static async start({ size = 3, haproxy = false, syncedCheck = false }: { size?: number; haproxy?: boolean; syncedCheck?: boolean } = {}): Promise<GaleraCluster | null> {
    if (!galeraInstalled() || (haproxy && !haproxyInstalled())) return null;
    const dir = mkdtempSync(join(tmpdir(), 'dtx-galera-'));
    const nodes: GaleraNode[] = [];
    for (let i = 0; i < size; i++) {
      const ports = { sql: await freePort(), group: await freePort(), ist: await freePort(), sst: await freePort() };
      nodes.push(new GaleraNode(i, join(dir, `node${i}`), ports));
    }
    const cluster = new GaleraCluster(dir, nodes, haproxy ? await freePort() : null);
    try {
      for (const node of nodes) mkdirSync(join(node.dir, 'data'), { recursive: true });
      // the server drops root for `mysql`, and so does the rsync daemon of a state transfer: both must own the tree
      if (process.getuid?.() === 0) execFileSync('chown', ['-R', `${USER}:${USER}`, dir]);
      const first = nodes[0]!;
      execFileSync('mariadb-install-db', ['--no-defaults', `--user=${USER}`, `--datadir=${join(first.dir, 'data')}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
      await cluster.#launch(first, true);
      first.sql("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
      for (const node of nodes.slice(1)) {
        await cluster.#launch(node, false);
      }
      if (haproxy && syncedCheck) cluster.#checks = await Promise.all(nodes.map((n) => GaleraSyncedCheck.start(n.url())));
      if (haproxy) await cluster.startProxy();
      return cluster;
    } catch (err) {
      await cluster.remove();
      throw err;
    }
  }

  /** A URL for DTX_DATABASE_URL reaching the cluster through node `i`. */
  url(i: number, database: string): string {
    return this.nodes[i]!.url(database);
  }

  /** A URL reaching the cluster through HAProxy. */
  proxyUrl(database: string): string {
    if (this.proxyPort === null) throw new Error('this cluster was started without HAProxy');
    return `mysql://root@127.0.0.1:${this.proxyPort}/${database}`;
  }

  /** A global status counter of node `i` (`wsrep_local_cert_failures`, …). */
  async status(i: number, name: string): Promise<number> {
    const conn = await createConnection({ uri: this.nodes[i]!.url() });
    try {
      const [rows] = await conn.query('SHOW GLOBAL STATUS LIKE ?', [name]);
      return Number((rows as { Value: string }[])[0]?.Value ?? NaN);
    } finally {
      await conn.end();
    }
  }

  /**
   * Cuts node `i` off the others' group traffic (`gmcast.isolate`) or lets it back: cut off, it
   * is a non-primary component of one and refuses every statement with ER_UNKNOWN_COM_ERROR
   * (1047, "WSREP has not yet prepared node for application use"), as after a network split.
   */
  async isolate(i: number, cut: boolean): Promise<void> {
    const conn = await createConnection({ uri: this.nodes[i]!.url() });
    try {
      await conn.query(`SET GLOBAL wsrep_provider_options = 'gmcast.isolate=${cut ? 1 : 0}'`);
    } finally {
      await conn.end();
    }
    if (!cut) await waitForSql(this.nodes[i]!.url(), this.nodes[i]!.proc!, `galera node${i}`, true);
  }

  /** SIGKILL of node `i`: it leaves the cluster as in a crash; the others keep quorum (2 of 3). */
  async kill(i: number): Promise<void> {
    const node = this.nodes[i]!;
    const proc = node.proc;
    node.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  }

  /** True while node `i`'s server runs. */
  alive(i: number): boolean {
    const proc = this.nodes[i]!.proc;
    return proc !== null && proc.exitCode === null && proc.signalCode === null;
  }

  /** Node `i`'s `wsrep_local_state_comment` (Synced, Donor/Desynced, Joining, …), or null when it does not answer. */
  async state(i: number): Promise<string | null> {
    try {
      const conn = await createConnection({ uri: this.nodes[i]!.url(), connectTimeout: 1000 });
      try {
        const [rows] = await conn.query("SHOW STATUS LIKE 'wsrep_local_state_comment'");
        return (rows as { Value: string }[])[0]?.Value ?? null;
      } finally {
        await conn.end();
      }
    } catch {
      return null;
    }
  }

  /**
   * Starts node `i` again: it rejoins the cluster through the others and catches up before it
   * answers (resolves once it is Synced). A killed node's grastate says seqno -1, so by default
   * it takes a full copy (rsync SST), which blocks its donor while it lasts. With `incremental`,
   * its last committed position is first recovered from InnoDB (`mariadbd --wsrep-recover`, as
   * mysqld_safe does) and given as its start position: it then receives only the write-sets it
   * missed from a donor's gcache (IST), and the donor keeps serving. Falls back to SST when the
   * position cannot be recovered or is no longer in any gcache (Galera decides that itself).
   * Resolves to how the node caught up, read from its error log (null: it was running).
   */
  async restart(i: number, { incremental = false }: { incremental?: boolean } = {}): Promise<'ist' | 'sst' | null> {
    const node = this.nodes[i]!;
    if (node.proc) return null;
    const position = incremental ? node.recoverPosition(this.#group()) : null;
    if (position === null) rmSync(join(node.dir, 'data', 'grastate.dat'), { force: true });
    const before = node.istCount();
    await this.#launch(node, false, position === null ? [] : [`--wsrep-start-position=${position}`]);
    return node.istCount() > before ? 'ist' : 'sst';
  }

  /** True while HAProxy runs. */
  get proxyAlive(): boolean {
    const proc = this.#haproxy;
    return proc !== null && proc.exitCode === null && proc.signalCode === null;
  }

  /** Stops HAProxy (SIGKILL), so that a test sees what the proxy's death does. */
  async stopProxy(): Promise<void> {
    const proc = this.#haproxy;
    this.#haproxy = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  }

  async startProxy(): Promise<void> {
    if (this.#haproxy || this.proxyPort === null) return;
    const cfg = join(this.dir, 'haproxy.cfg');
    const checked = this.#checks.length > 0;
    const servers = this.nodes.map((n, i) => `  server node${i} 127.0.0.1:${n.ports.sql} check inter 500 fall 2 rise 2${checked ? ` port ${this.#checks[i]!.port}` : ''}`).join('\n');
    writeFileSync(cfg, [
      'global',
      '  maxconn 512',
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 1h',
      '  timeout server 1h',
      'listen galera',
      `  bind 127.0.0.1:${this.proxyPort}`,
      '  balance first',
      // a node marked down (dead, or with the synced check: donor, joiner, cut off) loses its sessions, so pooled connections move too
      ...(checked ? ['  option httpchk GET /', '  http-check expect status 200', '  default-server on-marked-down shutdown-sessions'] : ['  option tcp-check']),
      servers,
      '',
    ].join('\n'));
    const proc = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: 'ignore' });
    this.#haproxy = proc;
    proc.once('exit', (code, signal) => {
      if (this.#haproxy === proc) this.crashes.push(`haproxy exited by itself (code ${code}, signal ${signal})`);
    });
    await waitForSql(`mysql://root@127.0.0.1:${this.proxyPort}/`, proc, 'haproxy');
  }

  /** Stops everything and removes the cluster's directory. */
  async remove(): Promise<void> {
    await this.stopProxy();
    for (let i = 0; i < this.nodes.length; i++) await this.kill(i);
    for (const check of this.#checks) await check.close();
    this.#checks = [];
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** SIGKILL of every process, synchronously, and the directory removed: for a process's `exit` handler. */
  removeNow(): void {
    for (const proc of [this.#haproxy, ...this.nodes.map((n) => n.proc)]) if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    this.#haproxy = null;
    for (const n of this.nodes) n.proc = null;
    rmSync(this.dir, { recursive: true, force: true });
  }


  #group(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.ports.group}`).join(',');
  }

  async #launch(node: GaleraNode, bootstrap: boolean, extra: string[] = []): Promise<void> {
    const args = [...node.args(this.#group()), ...extra];
    if (bootstrap) args.push('--wsrep-new-cluster');
    const proc = spawn(MARIADBD, args, { stdio: 'ignore' });
    node.proc = proc;
    proc.once('exit', (code, signal) => {
      if (node.proc === proc) this.crashes.push(`galera node${node.index} exited by itself (code ${code}, signal ${signal}); see ${join(node.dir, 'error.log')}`);
    });
    await waitForSql(node.url(), proc, `galera node${node.index} (see ${join(node.dir, 'error.log')})`, true);
  }
}

