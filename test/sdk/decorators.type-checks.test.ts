import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const FIXTURES = fileURLToPath(new URL('./fixtures/decorator-types/', import.meta.url));

/** tsc's diagnostics for one of the fixtures' tsconfigs; empty when it compiles cleanly. */
async function diagnostics(tsconfig: string): Promise<string> {
  try {
    await run(process.execPath, [TSC, '-p', tsconfig, '--pretty', 'false'], { cwd: FIXTURES });
    return '';
  } catch (err) {
    return (err as { stdout?: string }).stdout || String(err);
  }
}

/**
 * The fixtures' `@ts-expect-error` lines are decorated methods of the wrong signature,
 * wrong confirm / cancel / compensate names and wrong payloads through participantRef;
 * a check the decorators lose leaves its directive unused, which tsc reports.
 */
describe('decorators: the type checker refuses a mis-typed action method', () => {
  it('under standard decorators: the context type, the method names and the payload and try result through participantRef', async () => {
    expect(await diagnostics('tsconfig.json')).toBe('');
  }, 120_000);

  it('under experimentalDecorators (as NestJS compiles): the context type and the payload and try result through participantRef', async () => {
    expect(await diagnostics('tsconfig.legacy.json')).toBe('');
  }, 120_000);
});
