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
