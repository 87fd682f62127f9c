import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import knexFactory from 'knex';
import { freePort } from '../test/support/free-port.js';
import { redisCommand } from '../test/support/redis-commands.js';
import { Child } from './child.js';

const run = promisify(execFile);
/** knex prints every refused connection of the readiness probe otherwise. */
const QUIET = { warn() {}, error() {}, debug() {}, deprecate() {} };

/** Polls `probe` until it succeeds while `child` lives. */
async function until(child: Child, probe: () => Promise<unknown>): Promise<void> {
  for (;;) {
    try {
      await probe();
      return;
    } catch {
      if (!child.alive) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * A MariaDB of the soak's own, in a data directory under `dir`, on a spare port, so that
 * killing it harms nobody. Durable settings (the default flush at every commit): the soak
 * checks what survives a SIGKILL.
 */
export async function privateMariadb(dir: string): Promise<{ child: Child; port: number; url: (db: string) => string }> {
  const datadir = join(dir, 'mariadb');
  mkdirSync(datadir, { recursive: true });
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  await run('mariadb-install-db', ['--no-defaults', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', ...asRoot], { timeout: 60_000 });
  const port = await freePort();
  const url = (db: string) => `mysql://root@127.0.0.1:${port}/${db}`;
  const child: Child = new Child('mariadb', {
    command: 'mariadbd',
    args: [
      '--no-defaults', `--datadir=${datadir}`, `--port=${port}`, `--socket=${join(dir, 'mariadb.sock')}`, '--bind-address=127.0.0.1',
      '--skip-name-resolve', '--skip-log-bin', '--innodb-buffer-pool-size=64M', '--max-connections=300', ...asRoot,
    ],
    ready: (c) =>
      until(c, async () => {
        const k = knexFactory({ client: 'mysql2', connection: url(''), pool: { min: 0, max: 1 }, acquireConnectionTimeout: 2000, log: QUIET });
        try {
          await k.raw('select 1');
        } finally {
          await k.destroy();
        }
      }),
  });
  return { child, port, url };
}

/** A redis-server of the soak's own, without persistence: a kill or FLUSHALL loses everything in it. */
export async function privateRedis(): Promise<{ child: Child; port: number; url: string; flushAll(): Promise<void> }> {
  const port = await freePort();
  const command = (name: string) => redisCommand(`redis://127.0.0.1:${port}`, name);
  const child = new Child('redis', {
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    ready: (c) => until(c, () => command('PING')),
  });
  return { child, port, url: `redis://127.0.0.1:${port}`, flushAll: async () => void (await command('FLUSHALL')) };
}

/** The newest PostgreSQL server's bin directory of Debian's packages, or null. */
function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  return versions.length > 0 ? join(root, versions[0]!, 'bin') : null;
}

/**
 * A PostgreSQL of the soak's own, in a data directory under `dir`, on a spare port, durable
 * (fsync and synchronous commit on, as shipped). Its signals go to the whole process tree, so
 * a kill takes the postmaster and every backend at once (the whole server's crash, which it
 * recovers from its WAL on start) and a SIGSTOP freezes all of them. As the `postgres` user
 * when the soak runs as root, since PostgreSQL refuses root.
 */
export async function privatePostgres(dir: string): Promise<{ child: Child; port: number; url: (db: string) => string }> {
  const bin = postgresBin();
  if (bin === null) throw new Error('the PostgreSQL server is not installed (/usr/lib/postgresql/*/bin)');
  const home = join(dir, 'postgres');
  mkdirSync(home, { recursive: true });
  const user = process.getuid?.() === 0 ? { uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()), gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()) } : undefined;
  if (user) {
    chmodSync(dir, 0o711); // the postgres user must reach its directory inside the soak's
    chownSync(home, user.uid, user.gid);
  }
  const datadir = join(home, 'data');
  await run(join(bin, 'initdb'), ['-D', datadir, '-U', 'postgres', '--auth=trust', '--no-sync'], { timeout: 60_000, ...(user ?? {}) });
  const port = await freePort();
  const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  const child: Child = new Child('postgres', {
    command: join(bin, 'postgres'),
    args: ['-D', datadir, '-p', String(port), '-k', home, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'shared_buffers=64MB'],
    ...(user ? { user } : {}),
    tree: true,
    ready: (c) =>
      until(c, async () => {
        const k = knexFactory({ client: 'pg', connection: url('postgres'), pool: { min: 0, max: 1 }, acquireConnectionTimeout: 2000, log: QUIET });
        try {
          await k.raw('select 1');
        } finally {
          await k.destroy();
        }
      }),
  });
  return { child, port, url };
}
