// `npm run example:xa-wallet`: one XA wallet participant (MySQL / MariaDB). Reads the environment here and only here.
import { createWalletServer } from '../src/wallet-server.js';

const port = Number(process.env.PORT ?? 4003);
const databaseUrl = process.env.WALLET_DATABASE_URL;
if (!databaseUrl?.startsWith('mysql://')) {
  console.error('example:xa-wallet needs WALLET_DATABASE_URL=mysql://user@host:port/db (MySQL or MariaDB: XA transactions)');
  process.exit(2);
}
const wallet = createWalletServer({
  databaseUrl,
  port,
  host: process.env.HOST ?? '127.0.0.1',
  mode: 'xa',
  xa: { ...(process.env.DTX_COORDINATOR_URL ? { coordinatorUrl: process.env.DTX_COORDINATOR_URL } : {}) },
  ...(process.env.DTX_SIGNING_SECRET ? { signingSecret: process.env.DTX_SIGNING_SECRET } : {}),
  ...(process.env.PUBLIC_URL ? { publicUrl: process.env.PUBLIC_URL } : {}),
});

await wallet.start();
console.log(JSON.stringify({ wallet: wallet.url, mode: 'xa', signed: Boolean(process.env.DTX_SIGNING_SECRET) }));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void wallet.close().then(() => process.exit(0));
  });
}
