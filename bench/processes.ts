import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A child process the bench started; every one is stopped at the end, even on failure. */
export interface Child {
  name: string;
  proc: ChildProcess;
  /** What the ready pattern captured (usually the URL it listens on). */
  ready: string;
  output(): string;
  stop(timeoutMs?: number): Promise<void>;
}

const children = new Set<Child>();

/** Spawns `node <args>`; resolves once a line of its stdout matches `readyPattern` (first capture group returned). */
export async function startProcess(
  name: string,
  nodeArgs: string[],
  env: Record<string, string>,
  readyPattern: RegExp,
  timeoutMs = 30_000,
): Promise<Child> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DTX_') || k.startsWith('DTX_BENCH_')));
  const proc = spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000); // bounded: keep the tail for error messages
  };
  proc.stdout!.on('data', append);
  proc.stderr!.on('data', append);
  // DTX_BENCH_LOG_DIR=<dir> keeps every child's full output, for debugging a run
  const logDir = process.env.DTX_BENCH_LOG_DIR;
  if (logDir) {
    mkdirSync(logDir, { recursive: true });
    const file = createWriteStream(join(logDir, `${name.replace(/\W+/g, '-')}.log`));
    proc.stdout!.pipe(file);
    proc.stderr!.pipe(file);
  }
  const child: Child = {
    name,
    proc,
    ready: '',
    output: () => out,
    async stop(stopTimeoutMs = 10_000) {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(child);
  try {
    child.ready = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${out.slice(-4000)}`)), timeoutMs);
      const check = () => {
        const m = readyPattern.exec(out);
        if (m) {
          clearTimeout(timer);
          proc.stdout!.off('data', check);
          resolve(m[1] ?? '');
        }
      };
      proc.stdout!.on('data', check);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${out.slice(-4000)}`));
      });
    });
  } catch (err) {
    await child.stop(2000);
    throw err;
  }
  return child;
}

/** Stops every child still running, in parallel. */
export async function stopAll(): Promise<void> {
  await Promise.allSettled([...children].map((c) => c.stop()));
}

// Last resort: a bench that dies still takes its children with it.
process.once('exit', () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
});

/** Peak and current resident set of a process, from the kernel (Linux). */
export async function memoryOf(pid: number): Promise<{ rssMb: number; peakRssMb: number } | null> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null when unreadable. */
export async function cpuSecondsOf(pid: number): Promise<number | null> {
  const { readFile } = await import('node:fs/promises');
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/** The MySQL server's pid when it runs on this host (for its CPU per transaction), else null. */
export async function mysqlServerPid(): Promise<number | null> {
  const { readdir, readFile } = await import('node:fs/promises');
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'mariadbd' || comm.trim() === 'mysqld') return Number(entry);
  }
  return null;
}
