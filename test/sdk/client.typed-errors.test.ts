import {
  actionRef,
  BranchConflictError,
  CoordinatorClient,
  CoordinatorUnreachableError,
  InvalidRequestError,
  TxExistsError,
  TxNotFoundError,
  TxCommittedError,
  TxNotTryingError,
  TxRolledBackError,
  UnauthorizedError,
} from '@dtx/participant-sdk';
import { newXid } from '@dtx/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startCoordinator, type TestCoordinator } from './support/coordinator.js';

const ref = actionRef('http://127.0.0.1:9', 'wallet.debit');
const branch = (branchId: string, amount = 1) => ({ branchId, action: ref.action, confirmUrl: ref.confirmUrl, cancelUrl: ref.cancelUrl, payload: { amount } });

describe('coordinator client: every protocol error is a typed error', () => {
  let coord: TestCoordinator | undefined;
  afterEach(async () => {
    await coord?.close();
    coord = undefined;
  });

  it('registration after rollback is TxNotTryingError with the status; commit after rollback is TxRolledBackError', async () => {
    coord = await startCoordinator();
    const { client } = coord;
    const { xid, status } = await client.begin({ timeoutMs: 10_000 });
    expect(status).toBe('trying');
    expect(await client.register(xid, branch('b1'))).toMatchObject({ xid, branchId: 'b1', status: 'registered' });
    await client.rollback(xid, { wait: true, reason: 'changed my mind' });

    const late = await client.register(xid, branch('b2')).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(TxNotTryingError);
    expect((late as TxNotTryingError).status).toBe(409);
    expect((late as TxNotTryingError).code).toBe('TX_NOT_TRYING');
    expect(['rolling_back', 'rolled_back']).toContain((late as TxNotTryingError).txStatus);

    await expect(client.commit(xid)).rejects.toBeInstanceOf(TxRolledBackError);
    await expect(client.begin({ xid, timeoutMs: 10_000 })).rejects.toBeInstanceOf(TxExistsError);
    // Its participant URL leads nowhere, so the cancel is still being retried.
    const view = await client.get(xid);
    expect(view).toMatchObject({ xid, status: 'rolling_back', reason: 'changed my mind' });
    expect(view.lastError).toBeTruthy();
  });

  it('begin is idempotent while trying; rollback after commit is TxCommittedError; repeating commit answers the status', async () => {
    coord = await startCoordinator();
    const { client } = coord;
    const xid = newXid();
    const first = await client.begin({ xid, timeoutMs: 10_000 });
    const again = await client.begin({ xid, timeoutMs: 10_000 });
    expect(again).toMatchObject({ xid, status: 'trying', deadline: first.deadline });
    expect((await client.commit(xid, { wait: true })).status).toBe('committed');
    expect((await client.commit(xid)).status).toBe('committed');
    const refused = await client.rollback(xid).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TxCommittedError);
    expect((refused as TxCommittedError).details).toMatchObject({ status: 'committed' });
  });

  it('unknown xid, bad input and a conflicting branch', async () => {
    coord = await startCoordinator();
    const { client } = coord;
    await expect(client.get(newXid())).rejects.toBeInstanceOf(TxNotFoundError);
    const bad = await client.begin({ timeoutMs: 5 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidRequestError);
    expect((bad as InvalidRequestError).status).toBe(400);
    const { xid } = await client.begin({});
    await client.register(xid, branch('b1', 1));
    expect((await client.register(xid, branch('b1', 1))).status).toBe('registered');
    await expect(client.register(xid, branch('b1', 2))).rejects.toBeInstanceOf(BranchConflictError);
    const listed = await client.list({ limit: 10 });
    expect(listed.items.map((i) => i.xid)).toContain(xid);
    await client.rollback(xid, { wait: true });
  });

  it('a missing or wrong bearer token is UnauthorizedError; the right one works', async () => {
    coord = await startCoordinator({ apiTokens: ['s3cret-token'] });
    expect((await coord.client.begin({})).status).toBe('trying');
    const anonymous = new CoordinatorClient({ url: coord.url });
    const wrong = new CoordinatorClient({ url: coord.url, token: 'nope' });
    try {
      await expect(anonymous.begin({})).rejects.toBeInstanceOf(UnauthorizedError);
      await expect(wrong.list()).rejects.toBeInstanceOf(UnauthorizedError);
    } finally {
      await anonymous.close();
      await wrong.close();
    }
  });

  it('a coordinator that is not there is CoordinatorUnreachableError', async () => {
    const client = new CoordinatorClient({ url: 'http://127.0.0.1:9', requestTimeoutMs: 1000 });
    try {
      await expect(client.begin({})).rejects.toBeInstanceOf(CoordinatorUnreachableError);
    } finally {
      await client.close();
    }
  });
});
