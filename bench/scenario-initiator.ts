import { actionRef, CoordinatorClient } from '@dtx/participant-sdk';
import type { Scenario, ScenarioConfig } from './scenarios.js';

/**
 * The SDK's initiator flow (`transaction()`): begin, then for both branches
 * register + try + try-result (the two calls in parallel, as bare does), then
 * commit, waiting for phase 2.
 */
export async function initiatorScenario(c: ScenarioConfig): Promise<Scenario> {
  const client = new CoordinatorClient({ url: c.coordinatorUrl! });
  const a = actionRef<{ amount: number }>(c.participants[0]!, 'bench.a');
  const b = actionRef<{ amount: number }>(c.participants[1]!, 'bench.b');
  return {
    run: async () => {
      const outcome = await client.transaction(
        async (tx) => {
          await Promise.all([tx.call(a, { amount: 1 }, { branchId: 'a' }), tx.call(b, { amount: 1 }, { branchId: 'b' })]);
        },
        { wait: true },
      );
      if (outcome.status !== 'committed') throw new Error(`initiator: ended ${outcome.status}${'error' in outcome ? `: ${outcome.error.message}` : ''}`);
    },
    close: async () => {
      await client.close();
    },
  };
}
