import type { CoordinatorOptions } from '../../../coordinator/src/index.js';
import type { CoordinatorClient } from '@dtx/participant-sdk';
import { afterEach } from 'vitest';
import type { StoreKind } from '../../support/services.js';
import { startCoordinator, type TestCoordinator } from './coordinator.js';
import { startWallet, type TestWallet } from './wallets.js';

/** A coordinator and two example wallets: alice's account on wallet A, bob's on wallet B. */
export interface Bank {
  coord: TestCoordinator;
  a: TestWallet;
  b: TestWallet;
  client: CoordinatorClient;
}

export interface BankOptions {
  /** Opening balances. */
  alice: number;
  bob: number;
  /** The wallets' databases. @default ['sqlite', 'sqlite'] */
  kinds?: [StoreKind, StoreKind];
  coordinator?: CoordinatorOptions;
  /** Each wallet's callback signing secret, when the suite signs. */
  walletSecrets?: [string | undefined, string | undefined];
}

/**
 * The end-to-end suites' setup. Call it in a describe block: it returns `openBank`,
 * and closes after each test whatever that opened (wallets first, then the coordinator).
 */
export function bankPerTest(): (opts: BankOptions) => Promise<Bank> {
  let coord: TestCoordinator | undefined;
  let wallets: TestWallet[] = [];
  afterEach(async () => {
    for (const w of wallets) await w.close();
    await coord?.close();
    wallets = [];
    coord = undefined;
  });
  return async ({ alice, bob, kinds = ['sqlite', 'sqlite'], coordinator, walletSecrets = [undefined, undefined] }) => {
    coord = await startCoordinator(coordinator);
    const a = await startWallet(kinds[0], { signingSecret: walletSecrets[0] });
    wallets.push(a);
    const b = await startWallet(kinds[1], { signingSecret: walletSecrets[1] });
    wallets.push(b);
    await a.seed('alice', alice);
    await b.seed('bob', bob);
    return { coord, a, b, client: coord.client };
  };
}
