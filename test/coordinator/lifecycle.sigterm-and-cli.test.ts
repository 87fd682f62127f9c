import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { afterEach, expect, test } from 'vitest';
import { api, eventually } from '../support/http.js';
import { DTX_CLI, spawnDtx, type DtxProcess } from '../support/coordinator-process.js';
import { startParticipant, type TestParticipant } from '../support/participant.js';
import { freshDatabase, type FreshDatabase } from '../support/services.js';

const run = promisify(execFile);

let db: FreshDatabase;
let p: TestParticipant;
let proc: DtxProcess | undefined;

afterEach(async () => {
  await proc?.kill('SIGKILL');
  await p?.close();
  await db?.drop();
});

test('SIGTERM lets in-flight confirms finish, then exits cleanly', async () => {
  db = await freshDatabase('sqlite', 'sigterm');
  p = await startParticipant();
  p.on('confirm', () => ({ status: 200, body: {}, delayMs: 800 }));
  proc = await spawnDtx(['serve'], { DTX_DATABASE_URL: db.url });
  const b = await api(proc.url, 'POST', '/v1/transactions', { branches: [{ branchId: 'a', ...p.urls('w.a') }] });
  await api(proc.url, 'POST', `/v1/transactions/${b.body.xid}/commit`, {});
  await eventually(async () => p.callsOf('confirm').length === 1, 5000, 10);

  proc.proc.kill('SIGTERM');
  const [code] = await once(proc.proc, 'exit');
  expect(code).toBe(0);
  expect(proc.output()).toContain('SIGTERM: draining');

  // the confirm finished before exit: the log says committed, read by the CLI
  const { stdout } = await run(process.execPath, [...DTX_CLI, 'tx', 'get', b.body.xid], { env: { ...process.env, DTX_DATABASE_URL: db.url } });
  expect(JSON.parse(stdout)).toMatchObject({ xid: b.body.xid, status: 'committed', branches: [{ branchId: 'a', status: 'confirmed' }] });
});

test('the CLI lists transactions by status and refuses a bad filter', async () => {
  db = await freshDatabase('sqlite', 'cli');
  p = await startParticipant();
  proc = await spawnDtx(['serve'], { DTX_DATABASE_URL: db.url });
  const trying = await api(proc.url, 'POST', '/v1/transactions', {});
  await proc.kill('SIGKILL');
  proc = undefined;
  const env = { ...process.env, DTX_DATABASE_URL: db.url };
  const { stdout } = await run(process.execPath, [...DTX_CLI, 'tx', 'list', '--status', 'trying'], { env });
  expect(JSON.parse(stdout).items.map((t: { xid: string }) => t.xid)).toEqual([trying.body.xid]);
  await expect(run(process.execPath, [...DTX_CLI, 'tx', 'list', '--status', 'nonsense'], { env })).rejects.toMatchObject({ code: 1 });
  await expect(run(process.execPath, [...DTX_CLI, 'serve'], { env: { ...env, DTX_PORT: 'eighty' } })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('DTX_PORT') });
});

test('dtx serve logs one line per decision and none per request, unless DTX_LOG_REQUESTS=true', async () => {
  db = await freshDatabase('sqlite', 'loglines');
  p = await startParticipant();
  const driven = (url: string) => api(url, 'POST', '/v1/transactions', { drive: true, branches: [{ branchId: 'a', ...p.urls('w.a') }] });
  const lines = () => proc!.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string });
  proc = await spawnDtx(['serve'], { DTX_DATABASE_URL: db.url });
  expect((await driven(proc.url)).body.status).toBe('committed');
  await eventually(async () => lines().some((l) => l.msg === 'decision'), 5000, 20);
  expect(lines().filter((l) => /request/.test(l.msg))).toEqual([]);
  await proc.kill('SIGKILL');

  proc = await spawnDtx(['serve'], { DTX_DATABASE_URL: db.url, DTX_LOG_REQUESTS: 'true' });
  expect((await driven(proc.url)).body.status).toBe('committed');
  await eventually(async () => lines().some((l) => l.msg === 'request completed'), 5000, 20);
  expect(lines().filter((l) => l.msg === 'incoming request')).toHaveLength(1);
});
