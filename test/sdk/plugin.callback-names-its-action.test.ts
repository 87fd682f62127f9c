import { actionRef } from '@dtx/participant-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { startParticipant, type ReceivedCall, type TestParticipant } from '../support/participant.js';
import { newXid, sendCallback } from './support/callbacks.js';
import { startCoordinator, type TestCoordinator } from './support/coordinator.js';
import { startWallet, type TestWallet } from './support/wallets.js';

const SECRET = 'replay-secret-0123456789';

describe('callbacks name their action (PROTOCOL.md v1.1)', () => {
  let coord: TestCoordinator | undefined;
  let p: TestParticipant | undefined;
  let wallet: TestWallet | undefined;
  afterEach(async () => {
    await wallet?.close();
    await p?.close();
    await coord?.close();
    wallet = p = coord = undefined;
  });

  const drive = async (branches: object[]) => {
    const res = await fetch(`${coord!.url}/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ drive: true, timeoutMs: 10_000, branches }),
    });
    return (await res.json()) as { xid: string; status: string };
  };
  const actionsIn = (calls: ReceivedCall[]) => calls.map((c) => [c.phase, (JSON.parse(c.rawBody) as { action?: string }).action]);

  it('driven tries, confirms and cancels, and the SDK initiator\'s try, carry the branch\'s action; a branch without one sends none', async () => {
    coord = await startCoordinator({ signingSecret: SECRET });
    p = await startParticipant();
    p.on('try', () => ({ status: 409, body: { error: { code: 'NO', message: 'no' } } }), 'w.refuse');
    const committed = await drive([{ branchId: 'a', action: 'w.debit', ...p.urls('w.debit') }]);
    expect(committed.status).toBe('committed');
    expect(actionsIn(p.calls.filter((c) => c.body.xid === committed.xid))).toEqual([['try', 'w.debit'], ['confirm', 'w.debit']]);

    const rolledBack = await drive([{ branchId: 'r', action: 'w.refuse', ...p.urls('w.refuse') }]);
    expect(rolledBack.status).toBe('rolled_back');
    expect(actionsIn(p.calls.filter((c) => c.body.xid === rolledBack.xid))).toEqual([['try', 'w.refuse'], ['cancel', 'w.refuse']]);

    const anonymous = await drive([{ branchId: 'n', ...p.urls('w.plain') }]);
    expect(actionsIn(p.calls.filter((c) => c.body.xid === anonymous.xid))).toEqual([['try', undefined], ['confirm', undefined]]);

    const outcome = await coord.client.transaction(async (tx) => {
      await tx.call(actionRef(p!.url, 'w.sdk', { prefix: '' }), { n: 1 });
    });
    expect(outcome.status).toBe('committed');
    expect(actionsIn(p.calls.filter((c) => c.body.xid === outcome.xid))).toEqual([['try', 'w.sdk'], ['confirm', 'w.sdk']]);
  });

  it('a captured signed try replayed to another action is refused: 401 for its destination, and 400 INVALID_CALLBACK where v1 signatures are accepted', async () => {
    coord = await startCoordinator({ signingSecret: SECRET });
    p = await startParticipant();
    // The coordinator signs a credit try for alice; an eavesdropper keeps the exact bytes.
    await drive([{ branchId: 'c', action: 'wallet.credit', ...p.urls('wallet.credit'), payload: { account: 'alice', amount: 40 } }]);
    const captured = p.callsOf('try')[0]!;
    const headers = (signature: string) => ({
      ...Object.fromEntries(['content-type', 'dtx-xid', 'dtx-branch-id', 'dtx-phase', 'dtx-attempt'].map((h) => [h, String(captured.headers[h])])),
      'dtx-signature': signature,
    });
    const replay = (route: string, signature = String(captured.headers['dtx-signature'])) =>
      fetch(`${wallet!.url}/dtx/${route}`, { method: 'POST', headers: headers(signature), body: captured.rawBody });

    // a wallet on the current protocol: the signature was made for the participant it was sent to
    wallet = await startWallet('sqlite', { signingSecret: SECRET });
    await wallet.seed('alice', 100);
    for (const route of ['wallet.debit/try', 'wallet.credit/try']) {
      const res = await replay(route);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 'BAD_SIGNATURE', message: expect.stringMatching(/another destination/) } });
    }
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
    await wallet.close();

    // a wallet that still accepts unbound v1 signatures (a rolling upgrade): the body's action is what refuses it
    wallet = await startWallet('sqlite', { signingSecret: SECRET, acceptV1Signatures: true });
    await wallet.seed('alice', 100);
    const v1Only = String(captured.headers['dtx-signature']).replace(/,v2=[0-9a-f]+$/, '');
    const toDebit = await replay('wallet.debit/try', v1Only);
    expect(toDebit.status).toBe(400);
    expect(await toDebit.json()).toMatchObject({ error: { code: 'INVALID_CALLBACK', message: expect.stringMatching(/action/) } });
    expect(await wallet.account('alice')).toEqual({ id: 'alice', balance: 100, frozen: 0, incoming: 0 });
    // which is why accepting v1 is only for an upgrade: the same bytes on their own action's route pass
    expect((await replay('wallet.credit/try', v1Only)).status).toBe(200);
  });

  it('a body whose action or phase differs from the route is refused; a v1 body without action is still accepted', async () => {
    wallet = await startWallet('sqlite');
    await wallet.seed('alice', 100);
    const xid = newXid();
    const post = (route: string, body: object) =>
      fetch(`${wallet!.url}/dtx/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const base = { xid, branchId: 'debit', payload: { account: 'alice', amount: 10 } };
    const wrongPhase = await post('wallet.debit/confirm', { ...base, phase: 'cancel', action: 'wallet.debit' });
    expect(wrongPhase.status).toBe(400);
    expect(await wrongPhase.json()).toMatchObject({ error: { code: 'INVALID_CALLBACK' } });
    const notAString = await post('wallet.debit/try', { ...base, phase: 'try', action: 7 });
    expect(notAString.status).toBe(400);
    expect(await wallet.account('alice')).toMatchObject({ balance: 100, frozen: 0 });
    expect(await sendCallback(wallet.url, { action: 'wallet.debit', phase: 'try', ...base })).toMatchObject({ status: 200, barrier: 'ran' });
    expect(await wallet.account('alice')).toMatchObject({ balance: 90, frozen: 10 });
  });
});
