/**
 * The structured log lines the coordinator writes beside its HTTP logs (fastify's pino
 * logger in the service, the console in `dtx worker`): one per decision and one per
 * failed participant call, each with the xid and what it is about.
 */
export interface DtxLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}
