// The drain scenario's figures, for the report (pure: no I/O).

export interface DrainResult {
  count: number;
  /** From recovery ready to the last transaction committed. */
  sweeperMs: number;
  workersMs: number;
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
  workerConcurrency: number;
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

export function drainSummary(r: DrainResult, drivenTps: number | null): DrainSummary {
  const sweeperTps = (r.count * 1000) / r.sweeperMs;
  const workersTps = (r.count * 1000) / r.workersMs;
  const ratio = (tps: number) => (drivenTps ? round(tps / drivenTps, 3) : null);
  return { count: r.count, sweeperTps: round(sweeperTps, 1), workersTps: round(workersTps, 1), sweeperRatio: ratio(sweeperTps), workersRatio: ratio(workersTps), workerConcurrency: r.workerConcurrency };
}

export function drainLines(s: DrainSummary): string[] {
  const vs = (ratio: number | null) => (ratio === null ? '' : `, ${ratio.toFixed(2)} × driven`);
  return [
    `drain (${s.count} decided transactions whose confirms failed, then the participants healed):`,
    `  ${'in-process sweeper (defaults)'.padEnd(36)} ${s.sweeperTps.toFixed(0).padStart(6)} tx/s${vs(s.sweeperRatio)}`,
    `  ${`2 dtx workers (concurrency ${s.workerConcurrency})`.padEnd(36)} ${s.workersTps.toFixed(0).padStart(6)} tx/s${vs(s.workersRatio)}`,
  ];
}

/** The JSON line with `scenarios.drain` added. */
export function withDrain<T extends { scenarios: object }>(json: T, s: DrainSummary | null): T {
  return s ? { ...json, scenarios: { ...json.scenarios, drain: s } } : json;
}
