import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** `node …` arguments that run the `dtx` CLI from its TypeScript sources (the package's bin runs dist/). */
export const DTX_CLI = ['--import', 'tsx', fileURLToPath(new URL('../../coordinator/src/cli/main.ts', import.meta.url))];

/** A coordinator (or worker) as a real child process, for crash tests. */
export interface DtxProcess {
  proc: ChildProcess;
  /** `http://127.0.0.1:PORT` for `serve`; empty for other commands. */
  url: string;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `dtx <args>` with the given DTX_* environment; for `serve`, resolves once it listens. */
export async function spawnDtx(args: string[], env: Record<string, string>, readyPattern = /listening on (http:\/\/\S+)/): Promise<DtxProcess> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DTX_')));
  const proc = spawn(process.execPath, [...DTX_CLI, ...args], {
    env: { ...clean, DTX_HOST: '127.0.0.1', DTX_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dtx ${args.join(' ')} did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = readyPattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? '');
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dtx ${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
  return {
    proc,
    url,
    output: () => out,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const [code] = (await once(proc, 'exit')) as [number | null];
      return code;
    },
  };
}
