/**
 * A saga's step graph (PROTOCOL.md v1.2 "Saga"), pure: which steps each step waits
 * for, the order they run in and the order they are compensated in.
 */
export interface StepNode {
  branchId: string;
  /** The steps that must be done first, as given; absent: the step before it in the array. */
  after?: readonly string[] | null;
}

export type GraphProblem = { index: number; message: string };

/** Each step's effective `after` list: as given, or the step before it (array order: one at a time). */
export function effectiveAfter(steps: readonly StepNode[]): string[][] {
  return steps.map((s, i) => (s.after ? [...s.after] : i === 0 ? [] : [steps[i - 1]!.branchId]));
}

/**
 * The steps in an order they may run one after another (each after the steps it waits
 * for; ties in array order), or the problems: an `after` naming an unknown step, or a cycle.
 */
export function topologicalOrder(steps: readonly StepNode[]): { order: string[] } | { problems: GraphProblem[] } {
  const after = effectiveAfter(steps);
  const ids = new Set(steps.map((s) => s.branchId));
  const problems: GraphProblem[] = [];
  after.forEach((list, i) => {
    for (const dep of list) {
      if (!ids.has(dep)) problems.push({ index: i, message: `after names unknown step ${dep}` });
      else if (dep === steps[i]!.branchId) problems.push({ index: i, message: 'a step cannot come after itself' });
    }
  });
  if (problems.length > 0) return { problems };
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < steps.length) {
    const next = steps.findIndex((s, i) => !done.has(s.branchId) && after[i]!.every((d) => done.has(d)));
    if (next < 0) {
      const stuck = steps.map((s, i) => ({ s, i })).filter(({ s }) => !done.has(s.branchId));
      return { problems: stuck.map(({ s, i }) => ({ index: i, message: `step ${s.branchId} is in an after cycle` })) };
    }
    done.add(steps[next]!.branchId);
    order.push(steps[next]!.branchId);
  }
  return { order };
}

/** The steps not done, not running, whose `after` steps are all done: they may start now, in array order. */
export function readySteps(steps: readonly { branchId: string; after: readonly string[] }[], done: ReadonlySet<string>, running: ReadonlySet<string>): string[] {
  return steps.filter((s) => !done.has(s.branchId) && !running.has(s.branchId) && s.after.every((d) => done.has(d))).map((s) => s.branchId);
}

/**
 * The order compensations run in: the reverse of the topological order, so a step is
 * compensated after every step that came after it (array order: last first).
 */
export function compensationOrder(steps: readonly { branchId: string; after: readonly string[] }[]): string[] {
  const r = topologicalOrder(steps);
  // the log only holds graphs that begin checked; should one not order, fall back to reverse array order
  return 'order' in r ? [...r.order].reverse() : steps.map((s) => s.branchId).reverse();
}
