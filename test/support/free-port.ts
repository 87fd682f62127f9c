import { createServer } from 'node:net';

/** A port nobody listens on right now, on 127.0.0.1 (for the private servers tests, the soak and the bench start). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
