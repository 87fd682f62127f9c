import { startCoordinator, type Running, type StartOptions } from '../../support/coordinator.js';
import { RecordingParticipant } from './recording-participant.js';

/** A coordinator serving the DTM surface on a free port, and a recording DTM-style participant. */
export interface DtmFixture {
  running: Running;
  /** `http://127.0.0.1:port` of the DTM surface (routes under /api/dtmsvr). */
  dtm: string;
  p: RecordingParticipant;
  close(): Promise<void>;
}

export async function startDtmFixture(options: StartOptions = {}): Promise<DtmFixture> {
  const running = await startCoordinator({ dtmPort: 0, label: 'dtm', ...options });
  const p = await new RecordingParticipant().start();
  return {
    running,
    dtm: running.c.dtmUrl,
    p,
    async close() {
      await p.close();
      await running.close();
    },
  };
}

/** A test's own gid, and URLs and paths of the participant under it, so schedules and recorded calls never mix between tests. */
export interface FreshGid {
  gid: string;
  /** `http://participant/<gid>/<name>` */
  at: (name: string) => string;
  /** `/<gid>/<name>`, as the participant records it */
  path: (name: string) => string;
}

/** Makes FreshGids named `<prefix>-<n>-<time>` on the participant of the fixture `f()` returns (set in beforeAll). */
export function freshGids(f: () => DtmFixture, prefix: string): () => FreshGid {
  let n = 0;
  return () => {
    const gid = `${prefix}-${++n}-${Date.now()}`;
    return { gid, at: (name) => `${f().p.url}/${gid}/${name}`, path: (name) => `/${gid}/${name}` };
  };
}
