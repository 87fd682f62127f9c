// `npm run example:mailer`: the mailer participant (`mailer.welcome`). Reads the environment here and only here.
import { createMailerServer } from '../src/mailer-server.js';

const port = Number(process.env.PORT ?? 4010);
const mailer = createMailerServer({
  databaseUrl: process.env.MAILER_DATABASE_URL ?? `sqlite:.dtx/mailer-${port}.db`,
  port,
  host: process.env.HOST ?? '127.0.0.1',
  ...(process.env.DTX_SIGNING_SECRET ? { signingSecret: process.env.DTX_SIGNING_SECRET } : {}),
});

await mailer.start();
console.log(JSON.stringify({ mailer: mailer.url }));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void mailer.close().then(() => process.exit(0));
  });
}
