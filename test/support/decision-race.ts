import { expect } from 'vitest';
import type { JsonResponse } from './http.js';
import type { TestParticipant } from './participant.js';

/**
 * What a race of commits and rollbacks on one transaction must look like once it is final:
 * the winning verb's requests answered 200/202 with its status, every other one 409 naming
 * the winner, and the participants called on the winning side only, each branch settled.
 */
export function expectOneDecision(
  answers: (JsonResponse & { v: string })[],
  finalStatus: string,
  p: TestParticipant,
  xid: string,
  branchIds: string[],
): void {
  const winner = finalStatus === 'committed' ? 'commit' : 'rollback';
  for (const a of answers) {
    if (a.v === winner) {
      expect([200, 202]).toContain(a.status);
      expect(winner === 'commit' ? ['committing', 'committed'] : ['rolling_back', 'rolled_back']).toContain(a.body.status);
    } else {
      expect(a.status).toBe(409);
      expect(a.body.error.code).toBe(winner === 'commit' ? 'TX_COMMITTED' : 'TX_ROLLED_BACK');
    }
  }
  expect(p.callsOf(winner === 'commit' ? 'cancel' : 'confirm', xid)).toHaveLength(0);
  const done = p.callsOf(winner === 'commit' ? 'confirm' : 'cancel', xid).map((c) => c.body.branchId);
  expect(new Set(done)).toEqual(new Set(branchIds));
}
