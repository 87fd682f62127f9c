import { actionRef, branchOf } from '@dtx/participant-sdk';
import mysql from 'mysql2/promise';
import type { MysqlAdmin } from './mysql.js';
import { startProcess, type Child } from './processes.js';
import type { HttpHelpers, Scenario, ScenarioConfig } from './scenarios.js';

/** Enough that no account runs short during any run. */
const OPENING_BALANCE = 1_000_000_000;

/**
 * Two wallets, each on its own MySQL database: bench/bare-wallet.ts for bank-bare,
 * examples/bank's wallet (SDK, barrier) for bank, and for bank-xa that TCC wallet as A
 * and the XA wallet (examples/bank/bin/xa-wallet.ts) as B, for bank-fmt the FMT wallet
 * (examples/bank/bin/fmt-wallet.ts) as both. Accounts acct-0…acct-(n-1)
 * are (re)seeded straight in SQL, so every scenario starts from the same balances.
 */
export async function startWallets(scenario: string, dbUrls: string[], accounts: number): Promise<{ servers: Child[]; urls: string[] }> {
  const scriptOf = (i: number) =>
    scenario === 'bank-bare'
      ? 'bench/bare-wallet.ts'
      : scenario === 'bank-fmt'
        ? 'examples/bank/bin/fmt-wallet.ts'
        : scenario === 'bank-xa' && i === 1
          ? 'examples/bank/bin/xa-wallet.ts'
          : 'examples/bank/bin/wallet.ts';
  const servers = await Promise.all(
    dbUrls.map((url, i) =>
      startProcess(`${scenario} wallet ${'ab'[i]}`, ['--import', 'tsx', scriptOf(i)], { PORT: '0', WALLET_DATABASE_URL: url }, /"wallet":"(http:\/\/[^"]+)"/),
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
 * driven-mode request to DTX with wallet.debit and wallet.credit as branches; bank-xa
 * the same with xawallet.credit (an XA branch) at wallet B; bank-fmt with fmtwallet.debit
 * and fmtwallet.credit (FMT branches).
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
  const [debit, credit] = c.scenario === 'bank-fmt' ? ['fmtwallet.debit', 'fmtwallet.credit'] : ['wallet.debit', c.scenario === 'bank-xa' ? 'xawallet.credit' : 'wallet.credit'];
  return {
    run: () =>
      h.drive([
        branchOf(actionRef(a!, debit), 'debit', { account: pick(), amount: 1 }),
        branchOf(actionRef(b!, credit), 'credit', { account: pick(), amount: 1 }),
      ]),
    close: h.closePools,
  };
}

/**
 * After a bank scenario: the money must add up. Waits for the coordinator's log to
 * have no transaction left in flight (bank), then checks that wallet A lost exactly
 * what wallet B gained, nothing is left frozen or incoming, and, with no failed
 * transfer, that the amount moved is one unit per transfer completed. Throws when
 * any of that does not hold: a fast run that loses money is a failed run.
 */
export async function checkMoney(admin: MysqlAdmin, walletDbs: string[], logDb: string | null, accounts: number, transfers: number, errors: number): Promise<string> {
  if (logDb) await untilSettled(admin, logDb);
  const [a, b] = await Promise.all(
    walletDbs.map(async (db) => {
      const [row] = (await admin.query(`SELECT SUM(balance) AS balance, SUM(frozen) AS frozen, SUM(incoming) AS incoming FROM \`${db}\`.accounts`)) as Record<string, string>[];
      return { balance: Number(row!.balance), frozen: Number(row!.frozen), incoming: Number(row!.incoming) };
    }),
  );
  const opening = accounts * OPENING_BALANCE;
  const out = opening - a!.balance;
  const into = b!.balance - opening;
  const problems = [
    out !== into && `wallet A lost ${out} but wallet B gained ${into}`,
    (a!.frozen !== 0 || b!.frozen !== 0) && `${a!.frozen + b!.frozen} left frozen`,
    (a!.incoming !== 0 || b!.incoming !== 0) && `${a!.incoming + b!.incoming} left incoming`,
    errors === 0 && out !== transfers && `${transfers} transfers completed but ${out} units moved`,
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`money does not add up after the run: ${problems.join('; ')}`);
  return `${out} units moved from wallet A to wallet B by ${transfers} transfers${errors ? ` (${errors} failed)` : ''}; nothing left frozen or incoming`;
}

async function untilSettled(admin: MysqlAdmin, logDb: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [row] = (await admin.query(`SELECT COUNT(*) AS n FROM \`${logDb}\`.dtx_global_tx WHERE status NOT IN ('committed', 'rolled_back')`)) as { n: number }[];
    if (Number(row!.n) === 0) return;
    if (Date.now() > deadline) throw new Error(`${row!.n} transactions still in flight 60 s after the run`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
