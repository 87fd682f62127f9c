import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';

export interface ChildSpec {
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Run as this user (the servers that refuse root). */
  user?: { uid: number; gid: number };
  /**
   * SIGKILL, SIGSTOP and SIGCONT go to the process and all its descendants: for a server that
   * forks (PostgreSQL's backends, each in a session of its own, so a process group would not
   * reach them), so a kill is the whole server's crash and a SIGSTOP freezes all of it.
   */
  tree?: boolean;
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
    const proc = spawn(this.spec.command, this.spec.args, {
      env: { ...clean, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.spec.user ?? {}),
    });
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
    this.#send(signal);
    await exited;
    running.delete(this);
  }

  /** Sends a signal and leaves it running (SIGSTOP freezes it: it keeps its sockets and answers nothing). */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.#send(signal);
  }

  /** The signal to the process, or with `tree` (for SIGKILL, SIGSTOP, SIGCONT) to it and its descendants. */
  #send(signal: NodeJS.Signals): void {
    const proc = this.#proc!;
    if (!this.spec.tree || proc.pid === undefined || !['SIGKILL', 'SIGSTOP', 'SIGCONT'].includes(signal)) {
      proc.kill(signal);
      return;
    }
    // stopped first, the parent forks no child that the walk below would miss
    if (signal !== 'SIGCONT') proc.kill('SIGSTOP');
    for (const pid of descendants(proc.pid)) {
      try {
        process.kill(pid, signal);
      } catch {
        /* gone already */
      }
    }
    proc.kill(signal);
  }

  /** SIGKILL now, synchronously (with `tree`, of its descendants too). */
  killNow(): void {
    if (!this.alive) return;
    this.#expectExit = true;
    this.#send('SIGKILL');
  }

  /** SIGTERM, then SIGKILL if it has not exited in `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const proc = this.#proc;
    if (!proc || !this.alive) return;
    this.#expectExit = true;
    const exited = once(proc, 'exit');
    this.#send('SIGCONT'); // a frozen server cannot act on SIGTERM
    this.#send('SIGTERM');
    const late = setTimeout(() => this.#send('SIGKILL'), graceMs);
    await exited;
    clearTimeout(late);
    running.delete(this);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }
}

/** Every process below `root`, from /proc (Linux). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, the last ')' ends it
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const found: number[] = [];
  for (let todo = [root]; todo.length > 0; ) {
    const next = todo.flatMap((pid) => children.get(pid) ?? []);
    found.push(...next);
    todo = next;
  }
  return found;
}

/** SIGKILL, a pause, and a start again. */
export async function bounce(child: Child, downMs: number): Promise<void> {
  await child.kill();
  await new Promise((r) => setTimeout(r, downMs));
  await child.start(120_000);
}

/** Output matching `pattern`, polled: for processes that print a line when they serve. */
export function printed(pattern: RegExp): (child: Child) => Promise<void> {
  return async (child) => {
    while (!pattern.test(child.output()) && child.alive) await new Promise((r) => setTimeout(r, 50));
  };
}

/** Last resort on exit: no child outlives the soak, whatever ended it. */
export function killAllNow(): void {
  for (const c of running) c.killNow();
  running.clear();
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop(3000)));
}
