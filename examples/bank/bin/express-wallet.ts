// `npm run example:express-wallet`: the wallet participant as an Express service. Reads the environment here and only here.
import { startExpressWallet } from '../src/express-wallet.js';

const port = Number(process.env.PORT ?? 4001);
const wallet = await startExpressWallet({
  databaseUrl: process.env.WALLET_DATABASE_URL ?? `sqlite:.dtx/express-wallet-${port}.db`,
  port,
  host: process.env.HOST ?? '127.0.0.1',
  ...(process.env.DTX_SIGNING_SECRET ? { signingSecret: process.env.DTX_SIGNING_SECRET } : {}),
  ...(process.env.PUBLIC_URL ? { publicUrl: process.env.PUBLIC_URL } : {}),
});
console.log(JSON.stringify({ wallet: wallet.url, signed: Boolean(process.env.DTX_SIGNING_SECRET) }));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void wallet.close().then(() => process.exit(0));
  });
}
