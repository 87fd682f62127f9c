import { LOG_COUNTER } from './log-counts.js';
import { startProcess, type Child } from './processes.js';

/** `dtx serve` from the sources on `databaseUrl`, on a port of its own, with the log counter loaded (`nodeArgs` go first: a profiler's). */
export function startCoordinatorProcess(name: string, databaseUrl: string, nodeArgs: string[] = []): Promise<Child> {
  return startProcess(
    name,
    [...nodeArgs, '--import', 'tsx', ...LOG_COUNTER, 'coordinator/src/cli/main.ts', 'serve'],
    { DTX_DATABASE_URL: databaseUrl, DTX_HOST: '127.0.0.1', DTX_PORT: '0' },
    /listening on (http:\/\/\S+)/,
  );
}
