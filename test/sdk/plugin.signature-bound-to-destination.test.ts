import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { transfer } from '../../examples/bank/src/transfer.js';
import { newXid, sendCallback } from './support/callbacks.js';
import { startCoordinator, type TestCoordinator } from './support/coordinator.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const SECRET = 'one-secret-for-every-wallet';

interface Captured {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** A reverse proxy in front of `target` that keeps a copy of every request: where an eavesdropper would sit. */
async function recordingProxy(target: () => string): Promise<{ url: string; seen: Captured[]; close(): Promise<void> }> {
  const seen: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length' && k !== 'connection').map(([k, v]) => [k, String(v)]));
      const body = Buffer.concat(chunks);
      seen.push({ path: req.url ?? '/', headers, body });
      void fetch(`${target()}${req.url}`, { method: req.method, headers, ...(body.length > 0 ? { body } : {}) }).then(
        async (r) => {
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        },
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('signatures are bound to the participant they were sent to', () => {
  const open: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  it('a try captured on its way to wallet A and replayed byte for byte to wallet B (same secret) is refused 401; nothing freezes on B', async () => {
    const coord: TestCoordinator = await startCoordinator({ signingSecret: SECRET });
    open.push(coord);
    let aUrl = '';
    const proxy = await recordingProxy(() => aUrl);
    open.push(proxy);
    // A is reached through the proxy, so that is its public URL; B listens on its own address
    const a: TestWallet = await startWallet('sqlite', { signingSecret: SECRET, publicUrl: proxy.url });
    aUrl = a.url;
    const b: TestWallet = await startWallet('sqlite', { signingSecret: SECRET });
    const c: TestWallet = await startWallet('sqlite', { signingSecret: SECRET });
    open.push(a, b, c);
    await a.seed('alice', 100);
    await b.seed('alice', 100);
    await c.seed('carol', 0);

    const outcome = await transfer(coord.client, { from: { walletUrl: proxy.url, account: 'alice' }, to: { walletUrl: c.url, account: 'carol' }, amount: 30 });
    expect(outcome.status).toBe('committed');
    expect(await a.account('alice')).toEqual({ id: 'alice', balance: 70, frozen: 0, incoming: 0 });

    const tryToA = proxy.seen.find((s) => s.path.endsWith('/wallet.debit/try'))!;
    expect(tryToA.headers['dtx-signature']).toMatch(/,v2=/);
    const replay = await fetch(`${b.url}${tryToA.path}`, { method: 'POST', headers: tryToA.headers, body: tryToA.body });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: { code: 'BAD_SIGNATURE', message: expect.stringContaining(`${b.url}/dtx/wallet.debit/try`) } });
    expect(await b.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
  });

  it('a coordinator that calls a wallet by another name than it listens on is refused until the wallet sets publicUrl', async () => {
    const plain = await startWallet('sqlite', { signingSecret: SECRET });
    open.push(plain);
    await plain.seed('alice', 100);
    const port = new URL(plain.url).port;
    const byName = `http://localhost:${port}`;
    const cb = { action: 'wallet.debit', phase: 'try' as const, branchId: 'debit', payload: { account: 'alice', amount: 10 }, secret: SECRET };
    const refused = await sendCallback(plain.url, { ...cb, xid: newXid(), signedFor: `${byName}/dtx/wallet.debit/try` });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { message: expect.stringMatching(/publicUrl/) } });

    const configured = await startWallet('sqlite', { signingSecret: SECRET, publicUrl: 'http://wallet.internal:4001' });
    open.push(configured);
    await configured.seed('alice', 100);
    const ok = await sendCallback(configured.url, { ...cb, xid: newXid(), signedFor: 'http://WALLET.internal:4001/dtx/wallet.debit/try' });
    expect(ok.status).toBe(200);
    expect(await configured.account('alice')).toMatchObject({ balance: 90, frozen: 10 });
  });

  it('an unbound v1 signature (a coordinator before v2) is refused by default, accepted where configured', async () => {
    const strict = await startWallet('sqlite', { signingSecret: SECRET });
    const upgrading = await startWallet('sqlite', { signingSecret: SECRET, acceptV1Signatures: true });
    open.push(strict, upgrading);
    for (const w of [strict, upgrading]) await w.seed('alice', 100);
    const cb = { action: 'wallet.debit', phase: 'try' as const, branchId: 'debit', payload: { account: 'alice', amount: 10 }, secret: SECRET, v1Only: true };
    const refused = await sendCallback(strict.url, { ...cb, xid: newXid() });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: 'BAD_SIGNATURE', message: expect.stringMatching(/unbound/) } });
    expect((await sendCallback(upgrading.url, { ...cb, xid: newXid() })).status).toBe(200);
  });
});
