import { freshDatabase, type FreshDatabase, type StoreKind } from '../../support/services.js';
import { createWalletServer, type WalletServer, type WalletServerOptions } from '../../../examples/bank/src/wallet-server.js';
import type { Account } from '../../../examples/bank/src/wallet.js';

/** A bank-example wallet on its own fresh database, reached over real HTTP. */
export interface TestWallet {
  readonly db: FreshDatabase;
  readonly server: WalletServer;
  readonly url: string;
  seed(id: string, balance: number): Promise<void>;
  account(id: string): Promise<Account>;
  /** Stops the HTTP server and its pool; the database stays. */
  stop(): Promise<void>;
  /** Starts again on the same port and database. */
  restart(): Promise<void>;
  /** Stops and drops the database. */
  close(): Promise<void>;
}

/** `db`: a database of `kind` made beforehand (e.g. holding an older barrier table); it is dropped with the wallet. */
export async function startWallet(
  kind: StoreKind,
  opts: Pick<WalletServerOptions, 'signingSecret' | 'publicUrl' | 'acceptV1Signatures' | 'mode' | 'xa' | 'fmt'> = {},
  existing?: FreshDatabase,
): Promise<TestWallet> {
  const db = existing ?? (await freshDatabase(kind, 'wallet'));
  const make = (port: number) =>
    createWalletServer({
      databaseUrl: db.url,
      port,
      ...(opts.signingSecret !== undefined ? { signingSecret: opts.signingSecret } : {}),
      ...(opts.publicUrl !== undefined ? { publicUrl: opts.publicUrl } : {}),
      ...(opts.acceptV1Signatures !== undefined ? { acceptV1Signatures: opts.acceptV1Signatures } : {}),
      ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
      ...(opts.xa !== undefined ? { xa: opts.xa } : {}),
      ...(opts.fmt !== undefined ? { fmt: opts.fmt } : {}),
    });
  let server = make(0);
  await server.start();
  const url = server.url;
  let running = true;
  const wallet: TestWallet = {
    db,
    get server() {
      return server;
    },
    url,
    async seed(id, balance) {
      const res = await fetch(`${url}/accounts/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ balance }) });
      if (res.status !== 200) throw new Error(`seeding ${id}: HTTP ${res.status}`);
    },
    async account(id) {
      const res = await fetch(`${url}/accounts/${id}`);
      if (res.status !== 200) throw new Error(`reading ${id}: HTTP ${res.status}`);
      return (await res.json()) as Account;
    },
    async stop() {
      if (running) await server.close();
      running = false;
    },
    async restart() {
      server = make(Number(new URL(url).port));
      await server.start();
      running = true;
    },
    async close() {
      await wallet.stop();
      await db.drop();
    },
  };
  return wallet;
}

/** Two SQLite wallets, alice's account on the first and bob's on the second, for suites that start their coordinator themselves. */
export async function startWalletPair(alice: number, bob: number): Promise<[TestWallet, TestWallet]> {
  const a = await startWallet('sqlite');
  const b = await startWallet('sqlite');
  await a.seed('alice', alice);
  await b.seed('bob', bob);
  return [a, b];
}
