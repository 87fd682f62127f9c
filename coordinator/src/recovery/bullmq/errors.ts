import { toError } from '../../errors.js';

export type WorkerStartErrorCode = 'DATABASE_UNREACHABLE' | 'REDIS_UNREACHABLE';

/** `dtx worker` cannot start: a store it needs does not answer. */
export class WorkerStartError extends Error {
  constructor(
    readonly code: WorkerStartErrorCode,
    readonly target: string,
    cause: unknown,
  ) {
    super(`${code === 'REDIS_UNREACHABLE' ? 'Redis' : 'the database'} at ${target} is unreachable: ${toError(cause).message}`, { cause });
    this.name = 'WorkerStartError';
  }
}

/** A URL fit for a log line: the password is masked. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_m, auth: string) => `//${auth.includes(':') ? `${auth.split(':')[0]}:***` : '***'}@`);
}
