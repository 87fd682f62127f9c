import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';
import { freePort } from './free-port.js';

const BIN = (() => {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  return versions.length > 0 ? join(root, versions[0]!, 'bin') : '';
})();

/**
 * A PostgreSQL server of the test's own (initdb in a temp dir, a free port), so a
 * test can stop and restart it without touching the shared server on 5432. Run as
 * the `postgres` user when the tests run as root, since PostgreSQL refuses root.
 */
export class OwnPostgres {
  #proc: ChildProcess | null = null;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly settings: Record<string, string>,
  ) {}

  /** Null when the PostgreSQL server binaries are not installed. `settings`: extra `-c name=value` of the server. */
  static async start(settings: Record<string, string> = {}): Promise<OwnPostgres | null> {
    if (!BIN) return null;
    const dir = mkdtempSync(join(tmpdir(), 'dtx-pg-'));
    const pg = new OwnPostgres(dir, await freePort(), settings);
    if (asRoot()) chownSync(dir, uid('postgres'), uid('postgres', 'g'));
    execFileSync(...pg.#as(join(BIN, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync']), { stdio: 'ignore' });
    await pg.start();
    return pg;
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    if (this.#proc) return;
    const args = ['-D', join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'];
    for (const [name, value] of Object.entries(this.settings)) args.push('-c', `${name}=${value}`);
    const proc = spawn(...this.#as(join(BIN, 'postgres'), args), { stdio: 'ignore' });
    this.#proc = proc;
    for (let i = 0; ; i++) {
      const db = knexFactory({ client: 'pg', connection: this.url('postgres'), pool: { min: 0, max: 1 } });
      try {
        await db.raw('select 1');
        return;
      } catch (err) {
        if (i > 200 || proc.exitCode !== null) throw new Error(`postgres on ${this.port} did not start: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        await db.destroy();
      }
    }
  }

  /** Immediate shutdown (SIGQUIT to the postmaster): every connection is cut, as in a crash; the data survives. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = null;
    if (!proc || proc.exitCode !== null) return;
    const pidFile = join(this.dir, 'data', 'postmaster.pid');
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGQUIT');
    await once(proc, 'exit');
  }

  /** Stops it and removes its directory. */
  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  #as(command: string, args: string[]): [string, string[]] {
    return asRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  }
}

const asRoot = () => process.getuid?.() === 0;
const uid = (user: string, kind: 'u' | 'g' = 'u') => Number(execFileSync('id', [`-${kind}`, user], { encoding: 'utf8' }).trim());
