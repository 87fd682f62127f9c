import type { BranchStatus, TxStatus } from '@dtx/protocol';
import { describe, expect, test } from 'vitest';
import { canTransition, canTransitionBranch, doneBranchStatus, isFinal, modesWith, phaseOf, txSourcesOf, verbAgainst } from '../../coordinator/src/core/transitions.js';

describe('global transaction transitions', () => {
  const table: [TxStatus, TxStatus, boolean][] = [
    ['trying', 'committing', true],
    ['trying', 'rolling_back', true],
    ['trying', 'committed', false],
    ['trying', 'rolled_back', false],
    ['committing', 'committed', true],
    ['committing', 'rolling_back', false],
    ['committing', 'rolled_back', false],
    ['committing', 'trying', false],
    ['rolling_back', 'rolled_back', true],
    ['rolling_back', 'committing', false],
    ['rolling_back', 'committed', false],
    ['committed', 'rolled_back', false],
    ['committed', 'committing', false],
    ['rolled_back', 'committed', false],
    ['rolled_back', 'rolling_back', false],
  ];
  test.each(table)('%s → %s is %s', (from, to, legal) => {
    expect(canTransition(from, to)).toBe(legal);
  });

  // v1.2: a saga commits itself from trying (no phase 2) and never passes through committing
  const saga: [TxStatus, TxStatus, boolean][] = [
    ['trying', 'committed', true],
    ['trying', 'rolling_back', true],
    ['trying', 'committing', false],
    ['committing', 'committed', false],
    ['rolling_back', 'rolled_back', true],
    ['rolling_back', 'committed', false],
    ['committed', 'rolling_back', false],
    ['rolled_back', 'committed', false],
  ];
  test.each(saga)('saga: %s → %s is %s', (from, to, legal) => {
    expect(canTransition(from, to, 'saga')).toBe(legal);
  });

  // v1.2: a message commits into delivery (committing), or rolls back at once with nothing to call
  const msg: [TxStatus, TxStatus, boolean][] = [
    ['trying', 'committing', true],
    ['trying', 'rolled_back', true],
    ['trying', 'rolling_back', false],
    ['trying', 'committed', false],
    ['committing', 'committed', true],
    ['committing', 'rolled_back', false],
    ['committed', 'rolled_back', false],
    ['rolled_back', 'committing', false],
  ];
  test.each(msg)('msg: %s → %s is %s', (from, to, legal) => {
    expect(canTransition(from, to, 'msg')).toBe(legal);
  });

  test('a message never takes the rolling_back decision; the modes each guard lets through come from the table', () => {
    expect(modesWith('trying', 'rolling_back')).toEqual(['tcc', 'saga']);
    expect(modesWith('trying', 'committing')).toEqual(['tcc', 'msg']);
    expect(txSourcesOf('rolled_back', 'msg')).toEqual(['trying']);
    expect(phaseOf('committing', 'msg')).toBe('action');
    expect(doneBranchStatus('committing', 'msg')).toBe('delivered');
  });

  test('the guards come from the tables: commit from trying for a saga only', () => {
    expect(txSourcesOf('committed', 'saga')).toEqual(['trying']);
    expect(txSourcesOf('committed')).toEqual(['committing']);
    expect(txSourcesOf('committing', 'saga')).toEqual([]);
    expect(txSourcesOf('rolling_back', 'saga')).toEqual(['trying']);
  });

  test('only committed and rolled_back are final', () => {
    expect((['trying', 'committing', 'rolling_back', 'committed', 'rolled_back'] as TxStatus[]).filter(isFinal)).toEqual(['committed', 'rolled_back']);
  });
});

describe('branch transitions', () => {
  const table: [BranchStatus, BranchStatus, boolean][] = [
    ['registered', 'tried', true],
    ['registered', 'try_failed', true],
    ['registered', 'confirmed', true], // initiator mode: try outcome never reported
    ['registered', 'cancelled', true],
    ['tried', 'confirmed', true],
    ['tried', 'cancelled', true],
    ['try_failed', 'cancelled', true],
    ['try_failed', 'confirmed', false],
    ['confirmed', 'cancelled', false],
    ['cancelled', 'confirmed', false],
    ['confirmed', 'tried', false],
    // saga steps (v1.2): registered → done | failed → compensated; a called step of unknown outcome is compensated from registered
    ['registered', 'done', true],
    ['registered', 'failed', true],
    ['registered', 'compensated', true],
    ['done', 'compensated', true],
    ['failed', 'compensated', true],
    ['done', 'failed', false],
    ['failed', 'done', false],
    ['compensated', 'done', false],
    ['tried', 'compensated', false],
    ['done', 'cancelled', false],
    // message steps (v1.2): registered → delivered, never compensated
    ['registered', 'delivered', true],
    ['delivered', 'compensated', false],
    ['delivered', 'registered', false],
    ['tried', 'delivered', false],
  ];
  test.each(table)('%s → %s is %s', (from, to, legal) => {
    expect(canTransitionBranch(from, to)).toBe(legal);
  });
});

describe('a decision meeting a decided transaction', () => {
  const table: ['commit' | 'rollback', TxStatus, string][] = [
    ['commit', 'trying', 'undecided'],
    ['commit', 'committing', 'same'],
    ['commit', 'committed', 'same'],
    ['commit', 'rolling_back', 'opposite'],
    ['commit', 'rolled_back', 'opposite'],
    ['rollback', 'trying', 'undecided'],
    ['rollback', 'rolling_back', 'same'],
    ['rollback', 'rolled_back', 'same'],
    ['rollback', 'committing', 'opposite'],
    ['rollback', 'committed', 'opposite'],
  ];
  test.each(table)('%s against %s is %s', (verb, status, expected) => {
    expect(verbAgainst(verb, status)).toBe(expected);
  });
});
