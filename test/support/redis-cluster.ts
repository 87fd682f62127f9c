import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

const cli = (port: number, ...args: string[]) => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

/**
 * A Redis Cluster of the test's own: three masters and three replicas (`redis-server
 * --cluster-enabled yes`, joined by `redis-cli --cluster create … --cluster-replicas 1`) on
 * free ports in a temp dir, no persistence. A master killed is replaced by its replica within
 * about a second (`cluster-node-timeout` 1000 ms).
 */
export class RedisCluster {
  readonly #procs = new Map<number, ChildProcess>();
  /** Exits of a node that `kill` did not cause (a crash). */
  readonly crashes: string[] = [];

  private constructor(
    readonly dir: string,
    readonly ports: number[],
  ) {}

  static async start(): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'dtx-redis-cluster-'));
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) ports.push(await freePort());
    const cluster = new RedisCluster(dir, ports);
    try {
      for (const port of ports) await cluster.restart(port);
      execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { stdio: 'ignore' });
      await cluster.settled();
      return cluster;
    } catch (err) {
      await cluster.remove();
      throw err;
    }
  }

  /** `redis+cluster://` with every node as a seed, for DTX_REDIS_URL. */
  url(): string {
    return `redis+cluster://${this.ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  }

  /** The ports of the nodes that are masters now, as the cluster sees it. */
  masters(): number[] {
    const alive = this.ports.find((p) => this.#procs.has(p))!;
    return cli(alive, 'cluster', 'nodes')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => (f[2] ?? '').split(',').includes('master') && !/fail/.test(f[2] ?? ''))
      .map((f) => Number(f[1]!.split('@')[0]!.split(':')[1]));
  }

  /** The ports of the live nodes that are replicas now. */
  replicas(): number[] {
    const masters = new Set(this.masters());
    return [...this.#procs.keys()].filter((p) => !masters.has(p));
  }

  /** True while the node on `port` runs. */
  alive(port: number): boolean {
    return this.#procs.has(port);
  }

  /** FLUSHALL on every master: the cluster loses every key, as a Redis that lost its memory. */
  flushAll(): void {
    for (const port of this.masters()) cli(port, 'flushall');
  }

  /**
   * Resolves once the node on `port` is a replica whose link to its master is up (after a
   * restart: it has rejoined and taken a copy) and the cluster is ok.
   */
  async replicating(port: number, timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        const info = cli(port, 'info', 'replication');
        if (/role:slave/.test(info) && /master_link_status:up/.test(info)) break;
      } catch {
        /* not answering yet */
      }
      if (Date.now() > until) throw new Error(`the node on ${port} did not rejoin as a replica`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.settled(timeoutMs);
  }

  /** The port of the master that holds `key`'s slot now (a hash tag `{…}` names the slot of every key carrying it). */
  masterOf(key: string): number {
    const alive = this.ports.find((p) => this.#procs.has(p))!;
    const slot = Number(cli(alive, 'cluster', 'keyslot', key).trim());
    for (const f of cli(alive, 'cluster', 'nodes').split('\n').map((line) => line.split(' '))) {
      if (!(f[2] ?? '').includes('master') || /fail/.test(f[2] ?? '')) continue;
      for (const range of f.slice(8)) {
        const [from, to = from] = range.split('-').map(Number);
        if (slot >= from! && slot <= to!) return Number(f[1]!.split('@')[0]!.split(':')[1]);
      }
    }
    throw new Error(`no master holds slot ${slot}`);
  }

  /** Resolves once every live node reports the cluster ok (after a failover: the replica took over). */
  async settled(timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const ok = [...this.#procs.keys()].every((p) => {
        try {
          return cli(p, 'cluster', 'info').includes('cluster_state:ok');
        } catch {
          return false;
        }
      });
      if (ok) return;
      if (Date.now() > until) throw new Error('the Redis Cluster did not settle');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL of the master on `port`; resolves once its replica has taken its slots and the cluster is ok. */
  async failOver(port: number, timeoutMs = 20_000): Promise<void> {
    await this.kill(port);
    const until = Date.now() + timeoutMs;
    while (this.masters().includes(port) || this.masters().length < 3) {
      if (Date.now() > until) throw new Error(`no replica took over from the master on ${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.settled(timeoutMs);
  }

  /** SIGKILL of the node on `port`. */
  async kill(port: number): Promise<void> {
    const proc = this.#procs.get(port);
    this.#procs.delete(port);
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  }

  /** Starts the node on `port` (again): it rejoins as a replica of whoever took its slots. */
  async restart(port: number): Promise<void> {
    if (this.#procs.has(port)) return;
    const dir = join(this.dir, String(port));
    mkdirSync(dir, { recursive: true });
    const proc = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0',
      '--save', '', '--appendonly', 'no',
    ], { stdio: 'ignore' });
    this.#procs.set(port, proc);
    proc.once('exit', (code, signal) => {
      if (this.#procs.get(port) === proc) this.crashes.push(`redis-server on ${port} exited by itself (code ${code}, signal ${signal})`);
    });
    for (let i = 0; ; i++) {
      try {
        if (cli(port, 'ping').trim() === 'PONG') return;
      } catch {
        if (i > 100 || proc.exitCode !== null) throw new Error(`redis-server on ${port} did not start`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async remove(): Promise<void> {
    for (const port of [...this.#procs.keys()]) await this.kill(port);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** SIGKILL of every node, synchronously, and the directory removed: for a process's `exit` handler. */
  removeNow(): void {
    for (const proc of this.#procs.values()) if (proc.exitCode === null) proc.kill('SIGKILL');
    this.#procs.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
