// `npm run example:open-account -- --wallet WALLET_URL --account ID [--balance N]`: asks a wallet
// (started with DTX_COORDINATOR_URL and MAILER_URL) to open an account; the welcome mail is its message.
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    wallet: { type: 'string', default: 'http://127.0.0.1:4001' },
    account: { type: 'string' },
    balance: { type: 'string', default: '0' },
  },
});

const balance = Number(values.balance);
if (!values.account || !Number.isSafeInteger(balance) || balance < 0) {
  console.error('usage: example:open-account -- --wallet WALLET_URL --account ID [--balance N]');
  process.exit(2);
}

try {
  const res = await fetch(`${values.wallet.replace(/\/+$/, '')}/accounts/${encodeURIComponent(values.account)}/open`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ balance }),
  });
  const body = (await res.json()) as { xid?: string; status?: string; error?: { code: string; message: string } };
  if (res.status !== 201) {
    console.error(`open-account failed: HTTP ${res.status} ${body.error ? `${body.error.code}: ${body.error.message}` : ''}`);
    process.exitCode = 1;
  } else {
    console.log(JSON.stringify({ xid: body.xid, status: body.status }));
  }
} catch (err) {
  console.error(`open-account failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
