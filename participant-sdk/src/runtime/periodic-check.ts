import { toError } from '../errors.js';

/**
 * Runs `round` every `everyMs` (never two at once) until closed; a failed round is logged
 * and the next one runs. The timer does not keep the process alive.
 */
export function startPeriodicCheck(round: () => Promise<void>, everyMs: number, log: { warn(obj: object, msg: string): void }, failure: string): { close(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(round).catch((err) => log.warn({ err: toError(err) }, failure));
  }, everyMs);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
