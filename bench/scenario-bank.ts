import mysql from 'mysql2/promise';
import { startProcess, type Child } from './processes.js';
import type { HttpHelpers, Scenario, ScenarioConfig } from './scenarios.js';

/** Enough that no account runs short during any run. */
const OPENING_BALANCE = 1_000_000_000;

/**
 * Two wallets, each on its own MySQL database: bench/bare-wallet.ts for bank-bare,
 * examples/bank's wallet (SDK, barrier) for bank. Accounts acct-0…acct-(n-1) are
 * (re)seeded straight in SQL, so both scenarios start from the same balances.
 */
export async function startWallets(scenario: string, dbUrls: string[], accounts: number): Promise<{ servers: Child[]; urls: string[] }> {
  const script = scenario === 'bank' ? 'examples/bank/bin/wallet.ts' : 'bench/bare-wallet.ts';
  const servers = await Promise.all(
    dbUrls.map((url, i) =>
      startProcess(`${scenario} wallet ${'ab'[i]}`, ['--import', 'tsx', script], { PORT: '0', WALLET_DATABASE_URL: url }, /"wallet":"(http:\/\/[^"]+)"/),
    ),
  );
  for (const url of dbUrls) {
    const conn = await mysql.createConnection(url);
    try {
      const rows = Array.from({ length: accounts }, (_, n) => [`acct-${n}`, OPENING_BALANCE, 0, 0]);
      await conn.query('INSERT INTO accounts (id, balance, frozen, incoming) VALUES ? ON DUPLICATE KEY UPDATE balance = VALUES(balance), frozen = 0, incoming = 0', [rows]);
    } finally {
      await conn.end();
    }
  }
  return { servers, urls: servers.map((s) => s.ready) };
}

/**
 * One transfer of 1 unit from a random account at wallet A to a random account at
 * wallet B. bank-bare: debit then credit, each a plain local transaction. bank: one
 * driven-mode request to DTX with wallet.debit and wallet.credit as branches.
 */
export async function bankScenario(c: ScenarioConfig, h: HttpHelpers): Promise<Scenario> {
  const [a, b] = c.wallets!;
  const n = c.accounts!;
  const pick = () => `acct-${Math.floor(Math.random() * n)}`;
  if (c.scenario === 'bank-bare') {
    return {
      run: async () => {
        const from = pick();
        const to = pick();
        h.expectOk('debit', await h.post(a!, '/bare/debit', { account: from, amount: 1 }));
        h.expectOk('credit', await h.post(b!, '/bare/credit', { account: to, amount: 1 }));
      },
      close: h.closePools,
    };
  }
  const branch = (base: string, branchId: string, action: string, account: string) => ({
    branchId,
    action,
    tryUrl: `${base}/dtx/${action}/try`,
    confirmUrl: `${base}/dtx/${action}/confirm`,
    cancelUrl: `${base}/dtx/${action}/cancel`,
    payload: { account, amount: 1 },
  });
  return {
    run: async () => {
      const r = await h.post(c.coordinatorUrl!, '/v1/transactions', {
        drive: true,
        branches: [branch(a!, 'debit', 'wallet.debit', pick()), branch(b!, 'credit', 'wallet.credit', pick())],
      });
      h.expectOk('bank', r);
      if (r.json?.status !== 'committed') throw new Error(`bank: ended ${r.json?.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
    },
    close: h.closePools,
  };
}
