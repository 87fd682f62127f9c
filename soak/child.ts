import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface ChildSpec {
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Resolves once the process serves; gets the output so far. */
  ready: (child: Child) => Promise<void>;
}

/** Every child the soak started, so it can stop them all on any exit path. */
const running = new Set<Child>();

/**
 * A process the soak starts, may kill, and starts again. An exit the soak did not cause
 * (a crash) is counted and reported, never hidden.
 */
export class Child {
  #proc: ChildProcess | null = null;
  #out = '';
  #expectExit = false;
  readonly crashes: string[] = [];

  constructor(
    readonly name: string,
    private readonly spec: ChildSpec,
  ) {}

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  get alive(): boolean {
    return this.#proc !== null && this.#proc.exitCode === null && this.#proc.signalCode === null;
  }

  /** The last 8 KiB of its output. */
  output(): string {
    return this.#out;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    if (this.alive) return;
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DTX_')));
    const proc = spawn(this.spec.command, this.spec.args, { env: { ...clean, ...this.spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    this.#expectExit = false;
    // readiness is read from this life's output only, never from the last one's
    this.#out = '';
    running.add(this);
    const keep = (d: Buffer) => (this.#out = (this.#out + d.toString()).slice(-8192));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    proc.once('exit', (code, signal) => {
      if (!this.#expectExit) this.crashes.push(`${this.name} exited by itself (code ${code}, signal ${signal}): ${this.#out.slice(-600)}`);
    });
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${this.name} did not get ready in ${timeoutMs} ms:\n${this.#out.slice(-2000)}`)), timeoutMs).unref());
    const died = once(proc, 'exit').then(() => {
      throw new Error(`${this.name} exited while starting:\n${this.#out.slice(-2000)}`);
    });
    await Promise.race([this.spec.ready(this), timer, died]);
  }

  /** SIGKILL (or `signal`), and wait for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.#proc;
    if (!proc || !this.alive) return;
    this.#expectExit = true;
    const exited = once(proc, 'exit');
    proc.kill(signal);
    await exited;
    running.delete(this);
  }

  /** Sends a signal and leaves it running (SIGSTOP freezes it: it keeps its sockets and answers nothing). */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.#proc!.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited in `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const proc = this.#proc;
    if (!proc || !this.alive) return;
    this.#expectExit = true;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const late = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(late);
    running.delete(this);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }
}

/** Output matching `pattern`, polled: for processes that print a line when they serve. */
export function printed(pattern: RegExp): (child: Child) => Promise<void> {
  return async (child) => {
    while (!pattern.test(child.output()) && child.alive) await new Promise((r) => setTimeout(r, 50));
  };
}

/** Last resort on exit: no child outlives the soak, whatever ended it. */
export function killAllNow(): void {
  for (const c of running) {
    const pid = c.pid;
    if (pid !== undefined && c.alive) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  running.clear();
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop(3000)));
}
