import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** One callback as any HTTP framework received it: what the framework-neutral core answers. */
export interface CallbackRequest {
  method: string;
  /** The path below the adapter's mount point or prefix, without the query: `/<action>/<phase>` or `/_msg/check`. */
  route: string;
  /** The path and query as the request line had them, prefix included: what a v2 signature is bound to (with `publicUrl`). */
  url: string;
  headers: IncomingHttpHeaders;
  /** The raw bytes (fastify has read them), or the request stream for the core to read within its body limit. */
  body: Buffer | Readable | undefined;
  /** The socket's address and port and whether it is TLS: the destination when no `publicUrl` is set. */
  localAddress: string | undefined;
  localPort: number | undefined;
  tls: boolean;
  /** Where a failing callback is logged (fastify's request logger). @default the core's `log` */
  log?: CallbackLog;
}

/** What to send back: the adapter copies it to its framework's reply unchanged. */
export interface CallbackAnswer {
  status: number;
  headers: Record<string, string>;
  /** Serialised JSON, or none (204). */
  body?: string;
}

/** The logger the core writes to (pino's, fastify's and console-like ones fit). */
export interface CallbackLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Without a logger, the core's lines go to the console. */
export const consoleLog: CallbackLog = {
  info: (obj, msg) => console.info(msg, obj),
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};
