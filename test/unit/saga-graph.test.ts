import { describe, expect, test } from 'vitest';
import { planRound, type PlannedBranch } from '../../coordinator/src/core/round-plan.js';
import { compensationOrder, effectiveAfter, readySteps, topologicalOrder } from '../../coordinator/src/core/saga-graph.js';

const ids = (...xs: string[]) => xs.map((branchId) => ({ branchId }));

describe('a saga step graph (PROTOCOL.md v1.2)', () => {
  test('without after: array order, one at a time', () => {
    expect(effectiveAfter(ids('a', 'b', 'c'))).toEqual([[], ['a'], ['b']]);
    expect(topologicalOrder(ids('a', 'b', 'c'))).toEqual({ order: ['a', 'b', 'c'] });
  });

  test('after: [] everywhere runs all at once; a given after list replaces array order', () => {
    const steps = [{ branchId: 'a', after: [] }, { branchId: 'b', after: [] }, { branchId: 'c', after: ['a', 'b'] }];
    expect(effectiveAfter(steps)).toEqual([[], [], ['a', 'b']]);
    const graph = steps.map((s) => ({ branchId: s.branchId, after: s.after }));
    expect(readySteps(graph, new Set(), new Set())).toEqual(['a', 'b']);
    expect(readySteps(graph, new Set(['a']), new Set(['b']))).toEqual([]);
    expect(readySteps(graph, new Set(['a', 'b']), new Set())).toEqual(['c']);
    expect(readySteps(graph, new Set(['a', 'b', 'c']), new Set())).toEqual([]);
  });

  test('a step may come after a later one in the array', () => {
    expect(topologicalOrder([{ branchId: 'late', after: ['early'] }, { branchId: 'early', after: [] }])).toEqual({ order: ['early', 'late'] });
  });

  test('an unknown step, a step after itself, a cycle: refused, each step named', () => {
    expect(topologicalOrder([{ branchId: 'a', after: ['x'] }])).toEqual({ problems: [{ index: 0, message: 'after names unknown step x' }] });
    expect(topologicalOrder([{ branchId: 'a', after: ['a'] }])).toEqual({ problems: [{ index: 0, message: 'a step cannot come after itself' }] });
    const cycle = topologicalOrder([{ branchId: 'r', after: [] }, { branchId: 'a', after: ['c'] }, { branchId: 'b', after: ['a'] }, { branchId: 'c', after: ['b'] }]);
    expect('problems' in cycle && cycle.problems.map((p) => p.index)).toEqual([1, 2, 3]);
  });

  test('compensation order: the reverse of the run order (array order: last first; a diamond: the join first, the root last)', () => {
    expect(compensationOrder([{ branchId: 'a', after: [] }, { branchId: 'b', after: ['a'] }, { branchId: 'c', after: ['b'] }])).toEqual(['c', 'b', 'a']);
    const diamond = [{ branchId: 'root', after: [] }, { branchId: 'l', after: ['root'] }, { branchId: 'r', after: ['root'] }, { branchId: 'join', after: ['l', 'r'] }];
    const order = compensationOrder(diamond);
    expect(order[0]).toBe('join');
    expect(order.at(-1)).toBe('root');
  });
});

describe('the round plan', () => {
  const b = (branchId: string, seq: number, extra: Partial<PlannedBranch> = {}): PlannedBranch => ({ branchId, seq, status: 'registered', afterIds: null, calledAt: null, ...extra });

  test('TCC: confirms in registration order, cancels in reverse, done branches left out', () => {
    const branches = [b('x', 2), b('w', 1), b('y', 3, { status: 'confirmed' })];
    expect(planRound('tcc', 'committing', 'parallel', branches)).toMatchObject({ phase: 'confirm', order: 'parallel' });
    expect(planRound('tcc', 'committing', 'sequential', branches).pending.map((p) => p.branchId)).toEqual(['w', 'x']);
    expect(planRound('tcc', 'rolling_back', 'sequential', branches.slice(0, 2)).pending.map((p) => p.branchId)).toEqual(['x', 'w']);
  });

  test('saga: only called steps, one at a time, in reverse of the after order; compensated ones left out', () => {
    const steps = [
      b('a', 1, { afterIds: [], calledAt: 1, status: 'done' }),
      b('b', 2, { afterIds: ['a'], calledAt: 2, status: 'compensated' }),
      b('c', 3, { afterIds: ['b'], calledAt: 3, status: 'failed' }),
      b('d', 4, { afterIds: ['c'] }),
    ];
    const plan = planRound('saga', 'rolling_back', 'parallel', steps);
    expect(plan).toMatchObject({ phase: 'compensate', order: 'sequential' });
    expect(plan.pending.map((p) => p.branchId)).toEqual(['c', 'a']);
  });

  test('message: every step not delivered, by its after lists; delivered ones left out', () => {
    const steps = [b('a', 1, { afterIds: [], status: 'delivered' }), b('c', 3, { afterIds: ['b'] }), b('b', 2, { afterIds: ['a'] })];
    const plan = planRound('msg', 'committing', 'parallel', steps);
    expect(plan).toMatchObject({ phase: 'action', order: 'after' });
    expect(plan.pending.map((p) => p.branchId)).toEqual(['b', 'c']);
    expect(planRound('msg', 'committing', 'parallel', steps.map((s) => ({ ...s, status: 'delivered' as const }))).pending).toEqual([]);
  });
});
