export { createCoordinator, type Coordinator } from './coordinator.js';
export { resolveOptions, type CoordinatorOptions, type ResolvedOptions } from './config/options.js';
export { optionsFromEnv } from './config/env.js';
export { TransactionLog } from './log/transaction-log.js';
