import type { CheckResult } from './checks.js';
import type { FaultLog } from './faults.js';
import type { Op } from './load.js';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The soak's report: what was done to it, what came of the load, and every violation. */
export function printSummary(r: { topology: string; notes: string[]; loadS: number; seconds: number; elapsedS: number; faults: FaultLog; ops: Op[]; result: CheckResult }): void {
  const { counts, violations } = r.result;
  const told = r.ops.filter((o) => o.told).map((o) => o.ms).sort((a, b) => a - b);
  const faultsLine = Object.entries(r.faults.injected).map(([k, n]) => `${k} ×${n}`).join(', ');
  const total = Object.values(r.faults.injected).reduce((a, b) => a + b, 0);
  const outage = r.faults.outageAnswers;
  const refused = new Map<string, number>();
  for (const o of r.ops) {
    const why = o.refused ?? (o.threw ? `threw ${o.threw}` : undefined);
    if (why) refused.set(why, (refused.get(why) ?? 0) + 1);
  }
  const lines = [
    '',
    `== DTX soak: ${r.loadS.toFixed(0)} s of load (--seconds ${r.seconds}), ${r.elapsedS.toFixed(0)} s in all ==`,
    `stores: ${r.topology}`,
    ...r.notes,
    `faults injected: ${total} (${faultsLine})`,
    `writes while the log's database was down: ${outage.length}, slowest answer ${outage.length ? Math.round(Math.max(...outage.map((a) => a.ms))) : 0} ms`,
    `transactions begun: ${counts.begun} (driven ${r.ops.filter((o) => o.mode === 'driven').length}, transaction() ${r.ops.filter((o) => o.mode === 'sdk').length}, saga ${r.ops.filter((o) => o.mode === 'saga').length}, message ${r.ops.filter((o) => o.mode === 'msg').length})`,
    `  committed ${counts.committed}, rolled back ${counts.rolledBack}, never logged ${counts.neverLogged}`,
    ...Object.entries(counts.lanes).map(([lane, c]) => `  lane ${lane}: begun ${c.begun}, committed ${c.committed}, rolled back ${c.rolledBack}, never logged ${c.neverLogged}, no outcome told ${c.notTold}`),
    `  saga steps: applied ${counts.saga.applied}, compensated ${counts.saga.compensated}, empty compensations ${counts.saga.emptyCompensations}; saga accounts below zero ${counts.saga.belowZero} (a credit undone after its money moved on)`,
    `  messages: producers' local commits ${counts.msg.localCommits}, messages delivered ${counts.msg.delivered}`,
    `  no outcome told ${counts.notTold}: transaction() threw ${counts.initiatorThrew}, requests unanswered, refused or not followed up ${counts.notTold - counts.initiatorThrew}${refused.size ? ` (by reason: ${[...refused].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}`,
    `  overlapping phase-2 calls of one branch: ${counts.benignOverlaps} retries of a timed-out call, none by two drivers unless listed below`,
    `latency of transfers with an outcome: p50 ${percentile(told, 50).toFixed(0)} ms, p99 ${percentile(told, 99).toFixed(0)} ms`,
    `violations: ${violations.length}`,
    ...violations.slice(0, 50).map((v) => `  ✗ ${v}`),
    ...(violations.length > 50 ? [`  … and ${violations.length - 50} more`] : []),
    violations.length === 0 ? 'soak passed' : 'soak FAILED',
  ];
  console.log(lines.join('\n'));
}
