import { actionRef, CoordinatorClient } from '@dtx/participant-sdk';
import { coordinatorTurns } from './coordinator-turns.js';
import type { Scenario, ScenarioConfig } from './scenarios.js';

/**
 * The SDK's initiator flow (`transaction()`), both branches called together as
 * bare does: a begin that registers both, the two tries, then a commit carrying
 * their results that waits for phase 2 (two coordinator requests).
 */
export async function initiatorScenario(c: ScenarioConfig): Promise<Scenario> {
  const client = new CoordinatorClient({ url: coordinatorTurns(c)() });
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
