// `npm run example:wallet`: one wallet participant. Reads the environment here and only here.
import { createWalletServer } from '../src/wallet-server.js';

const port = Number(process.env.PORT ?? 4001);
const wallet = createWalletServer({
  databaseUrl: process.env.WALLET_DATABASE_URL ?? `sqlite:.dtx/wallet-${port}.db`,
  port,
  host: process.env.HOST ?? '127.0.0.1',
  ...(process.env.DTX_SIGNING_SECRET ? { signingSecret: process.env.DTX_SIGNING_SECRET } : {}),
  ...(process.env.PUBLIC_URL ? { publicUrl: process.env.PUBLIC_URL } : {}),
  // POST /accounts/:id/open sends the mailer's welcome message (npm run example:mailer)
  ...(process.env.DTX_COORDINATOR_URL && process.env.MAILER_URL
    ? { messages: { coordinatorUrl: process.env.DTX_COORDINATOR_URL, mailerUrl: process.env.MAILER_URL, ...(process.env.MESSAGE_TIMEOUT_MS ? { timeoutMs: Number(process.env.MESSAGE_TIMEOUT_MS) } : {}) } }
    : {}),
});

await wallet.start();
console.log(JSON.stringify({ wallet: wallet.url, signed: Boolean(process.env.DTX_SIGNING_SECRET) }));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void wallet.close().then(() => process.exit(0));
  });
}
