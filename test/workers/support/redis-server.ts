import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '../../support/free-port.js';
import { redisCommand } from '../../support/redis-commands.js';

/**
 * A redis-server of the test's own, on a free port, so stopping and flushing it
 * disturbs nobody else's tests on the shared Redis.
 */
export class OwnRedis {
  #proc: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const r = new OwnRedis(await freePort());
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.#proc) return;
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
    this.#proc = proc;
    for (let i = 0; ; i++) {
      try {
        await this.command('PING');
        return;
      } catch (err) {
        if (i > 100 || proc.exitCode !== null) throw new Error(`redis-server on ${this.port} did not start: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Stops it the hard way: everything in it is lost, as in a crash of a Redis without persistence. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = null;
    if (!proc || proc.exitCode !== null) return;
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  }

  command(...args: string[]): Promise<unknown> {
    return redisCommand(`redis://127.0.0.1:${this.port}`, args[0]!, ...args.slice(1));
  }
}
