// `npm run example:transfer -- --coordinator URL --from WALLET_URL/ACCOUNT --to WALLET_URL/ACCOUNT --amount N [--from-xa|--from-fmt] [--to-xa|--to-fmt] [--saga]`
import { CoordinatorClient } from '@dtx/participant-sdk';
import { parseArgs } from 'node:util';
import { sagaTransfer } from '../src/saga-transfer.js';
import { parseAccountAt, transfer } from '../src/transfer.js';

const { values } = parseArgs({
  options: {
    coordinator: { type: 'string', default: 'http://127.0.0.1:8700' },
    token: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    amount: { type: 'string' },
    timeout: { type: 'string', default: '30000' },
    // the side is an XA wallet (npm run example:xa-wallet): participant `xawallet`
    'from-xa': { type: 'boolean', default: false },
    'to-xa': { type: 'boolean', default: false },
    // the side is an FMT wallet (npm run example:fmt-wallet): participant `fmtwallet`
    'from-fmt': { type: 'boolean', default: false },
    'to-fmt': { type: 'boolean', default: false },
    // a saga between the wallets' saga actions (`sagawallet.*`): debit, then credit, compensated on a refusal
    saga: { type: 'boolean', default: false },
  },
});

const amount = Number(values.amount);
if (!values.from || !values.to || !Number.isSafeInteger(amount) || amount <= 0) {
  console.error('usage: example:transfer -- --coordinator URL --from WALLET_URL/ACCOUNT --to WALLET_URL/ACCOUNT --amount N [--from-xa|--from-fmt] [--to-xa|--to-fmt] [--saga] [--token T] [--timeout MS]');
  process.exit(2);
}

const client = new CoordinatorClient({
  url: values.coordinator,
  ...(values.token ? { token: values.token } : {}),
  ...(process.env.DTX_SIGNING_SECRET ? { signingSecret: process.env.DTX_SIGNING_SECRET } : {}),
});
try {
  const side = (xa: boolean | undefined, fmt: boolean | undefined) => (xa ? 'xawallet' : fmt ? 'fmtwallet' : 'wallet');
  const from = { ...parseAccountAt(values.from), participant: side(values['from-xa'], values['from-fmt']) };
  const to = { ...parseAccountAt(values.to), participant: side(values['to-xa'], values['to-fmt']) };
  if (values.saga) {
    const outcome = await sagaTransfer(client, { from, to, amount, timeoutMs: Number(values.timeout) });
    console.log(JSON.stringify({ xid: outcome.xid, status: outcome.status }));
    if (outcome.reason) console.error(outcome.reason);
  } else {
    const outcome = await transfer(client, { from, to, amount, timeoutMs: Number(values.timeout) });
    console.log(JSON.stringify({ xid: outcome.xid, status: outcome.status }));
    if ('error' in outcome) console.error(outcome.error.message);
  }
} catch (err) {
  // a typed SDK error says what happened and where the transaction stands: one line, no stack
  console.error(`transfer failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await client.close();
}
