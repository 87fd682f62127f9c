import { startCoordinatorProcess } from './coordinator-process.js';
import type { GaleraAdmin, WsrepCounters } from './galera.js';
import type { ScenarioName } from './options.js';
import type { Child } from './processes.js';
import type { StoreAdmin } from './store.js';

/** The log database of the Galera scenarios, made anew for each. */
const GALERA_DB = 'dtx_bench_galera';

/** How each galera scenario's coordinators reach the cluster: through HAProxy, or straight to node i. */
const GALERA_PATHS: Partial<Record<ScenarioName, ('proxy' | number)[]>> = { galera: ['proxy'], 'galera-direct': [0], 'galera-2c': ['proxy', 'proxy'], 'galera-2nodes': [0, 1] };

/** Coordinators started for one scenario alone, on the log they measure. */
export interface Topology {
  coordinators: Child[];
  /** The log's server for the scenario's commit and CPU columns. */
  admin: StoreAdmin;
  /** The Galera cluster's counters, for the galera scenarios. */
  wsrep: (() => Promise<WsrepCounters>) | null;
  stop(): Promise<void>;
}

export interface TopologyHost {
  /** The run's coordinator, on its log: driven-2c adds a second one beside it. */
  coordinator: Child;
  databaseUrl: string;
  admin: StoreAdmin;
  /** The Galera cluster, started the first time a galera scenario asks for it and kept for the run. */
  galera(): Promise<GaleraAdmin>;
}

/**
 * driven-2c: a second coordinator on the run's log, the load split between the two.
 * galera: one coordinator on a Galera log through HAProxy; galera-direct: one straight to
 * node 0 (no proxy hop); galera-2c: two through HAProxy (both on the first node, as
 * `balance first` sends them); galera-2nodes: two, each straight to a node of its own, so
 * their writes meet in certification.
 */
export async function startTopology(scenario: ScenarioName, host: TopologyHost): Promise<Topology> {
  if (scenario === 'driven-2c') {
    const second = await startCoordinatorProcess('coordinator 2', host.databaseUrl);
    return { coordinators: [host.coordinator, second], admin: host.admin, wsrep: null, stop: () => second.stop() };
  }
  const galera = await host.galera();
  await galera.recreate(GALERA_DB);
  const via = GALERA_PATHS[scenario];
  if (!via) throw new Error(`${scenario} is not a scenario of its own coordinators`);
  const coordinators: Child[] = [];
  const stop = async () => {
    await Promise.all(coordinators.map((c) => c.stop()));
    await galera.drop(GALERA_DB);
  };
  try {
    // one after the other: the first one migrates the log
    for (const [i, v] of via.entries()) coordinators.push(await startCoordinatorProcess(`${scenario} coordinator ${i + 1}`, galera.url(v, GALERA_DB)));
  } catch (err) {
    await stop();
    throw err;
  }
  return { coordinators, admin: galera, wsrep: () => galera.wsrep(), stop };
}
