import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const WALLET_BIN = new URL('../../../examples/bank/bin/wallet.ts', import.meta.url).pathname;

export interface WalletProcessOptions {
  port: number;
  databaseUrl: string;
  /** With both, the wallet opens accounts with a welcome message (POST /accounts/:id/open). */
  coordinatorUrl?: string;
  mailerUrl?: string;
  messageTimeoutMs?: number;
}

export interface WalletProcess {
  readonly url: string;
  readonly proc: ChildProcess;
  /** Ends it (SIGKILL by default: no cleanup, as a crash) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `examples/bank/bin/wallet.ts` as a real node process (not under npm, so a signal reaches it), resolved once it listens. */
export async function spawnWallet(o: WalletProcessOptions): Promise<WalletProcess> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), PORT: String(o.port), WALLET_DATABASE_URL: o.databaseUrl };
  if (o.coordinatorUrl) env.DTX_COORDINATOR_URL = o.coordinatorUrl;
  if (o.mailerUrl) env.MAILER_URL = o.mailerUrl;
  if (o.messageTimeoutMs) env.MESSAGE_TIMEOUT_MS = String(o.messageTimeoutMs);
  const proc = spawn(process.execPath, ['--import', 'tsx', WALLET_BIN], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`wallet exited with ${code}`)));
  });
  const { wallet } = JSON.parse(line) as { wallet: string };
  return {
    url: wallet,
    proc,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill(signal);
      await exited;
    },
  };
}
