// `npm run example:fmt-wallet`: one FMT wallet participant (MySQL / MariaDB or PostgreSQL). Reads the environment here and only here.
import { createWalletServer } from '../src/wallet-server.js';

const port = Number(process.env.PORT ?? 4004);
const databaseUrl = process.env.WALLET_DATABASE_URL;
if (!databaseUrl || !/^(mysql|postgres|postgresql):\/\//.test(databaseUrl)) {
  console.error('example:fmt-wallet needs WALLET_DATABASE_URL=mysql://user@host:port/db or postgres://user@host:port/db (FMT needs MySQL, MariaDB or PostgreSQL)');
  process.exit(2);
}
const wallet = createWalletServer({
  databaseUrl,
  port,
  host: process.env.HOST ?? '127.0.0.1',
  mode: 'fmt',
  fmt: { ...(process.env.DTX_COORDINATOR_URL ? { coordinatorUrl: process.env.DTX_COORDINATOR_URL } : {}) },
  ...(process.env.DTX_SIGNING_SECRET ? { signingSecret: process.env.DTX_SIGNING_SECRET } : {}),
});

await wallet.start();
console.log(JSON.stringify({ wallet: wallet.url, mode: 'fmt', signed: Boolean(process.env.DTX_SIGNING_SECRET) }));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void wallet.close().then(() => process.exit(0));
  });
}
