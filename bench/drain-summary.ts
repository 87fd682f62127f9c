// The drain scenario's figures, for the report (pure: no I/O).

export interface DrainResult {
  count: number;
  /** From recovery ready to the last transaction committed, and the CPU seconds recovery's process(es) used meanwhile. */
  sweeper: { ms: number; cpuS: number | null };
  workers: { ms: number; cpuS: number | null };
  /** Each of the two workers'. */
  workerConcurrency: number;
}

/** `scenarios.drain` of the JSON line: drain tx/s, and each as a ratio to `driven`'s tx/s when driven ran. */
export interface DrainSummary {
  count: number;
  sweeperTps: number;
  workersTps: number;
  sweeperRatio: number | null;
  workersRatio: number | null;
  /** CPU ms per transaction drained: the coordinator's, the two workers' together. */
  sweeperCpuMsPerTx: number | null;
  workersCpuMsPerTx: number | null;
  workerConcurrency: number;
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

export function drainSummary(r: DrainResult, drivenTps: number | null): DrainSummary {
  const sweeperTps = (r.count * 1000) / r.sweeper.ms;
  const workersTps = (r.count * 1000) / r.workers.ms;
  const ratio = (tps: number) => (drivenTps ? round(tps / drivenTps, 3) : null);
  const cpuPerTx = (cpuS: number | null) => (cpuS === null ? null : round((cpuS * 1000) / r.count, 2));
  return {
    count: r.count,
    sweeperTps: round(sweeperTps, 1),
    workersTps: round(workersTps, 1),
    sweeperRatio: ratio(sweeperTps),
    workersRatio: ratio(workersTps),
    sweeperCpuMsPerTx: cpuPerTx(r.sweeper.cpuS),
    workersCpuMsPerTx: cpuPerTx(r.workers.cpuS),
    workerConcurrency: r.workerConcurrency,
  };
}

export function drainLines(s: DrainSummary): string[] {
  const vs = (ratio: number | null) => (ratio === null ? '' : `, ${ratio.toFixed(2)} × driven`);
  const cpu = (ms: number | null) => (ms === null ? '' : `, ${ms.toFixed(2)} CPU ms/tx`);
  return [
    `drain (${s.count} decided transactions whose confirms failed, then the participants healed):`,
    `  ${'in-process sweeper (defaults)'.padEnd(36)} ${s.sweeperTps.toFixed(0).padStart(6)} tx/s${vs(s.sweeperRatio)}${cpu(s.sweeperCpuMsPerTx)}`,
    `  ${`2 dtx workers (concurrency ${s.workerConcurrency})`.padEnd(36)} ${s.workersTps.toFixed(0).padStart(6)} tx/s${vs(s.workersRatio)}${cpu(s.workersCpuMsPerTx)}`,
  ];
}

/** The JSON line with `scenarios.drain` added. */
export function withDrain<T extends { scenarios: object }>(json: T, s: DrainSummary | null): T {
  return s ? { ...json, scenarios: { ...json.scenarios, drain: s } } : json;
}
