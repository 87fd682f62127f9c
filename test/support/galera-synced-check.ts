import { createServer, type Server } from 'node:http';
import { createConnection } from 'mysql2/promise';
import { freePort } from './free-port.js';

/**
 * HAProxy's view of a Galera node (`option httpchk`): 200 only while the node is `Synced`,
 * 503 while it is a donor, a joiner, cut off, or down. A TCP check passes as soon as the
 * port listens, which sends clients to a joiner that refuses them (1047) or to a donor that
 * an rsync transfer has blocked.
 */
export class GaleraSyncedCheck {
  private constructor(
    readonly port: number,
    private readonly server: Server,
  ) {}

  static async start(sqlUrl: string): Promise<GaleraSyncedCheck> {
    const port = await freePort();
    const server = createServer((_req, res) => {
      void synced(sqlUrl).then((ok) => {
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain', connection: 'close' });
        res.end(ok ? 'Synced\n' : 'not synced\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return new GaleraSyncedCheck(port, server);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** True when the node answers within a second and says it is Synced. */
async function synced(sqlUrl: string): Promise<boolean> {
  try {
    const conn = await createConnection({ uri: sqlUrl, connectTimeout: 1000 });
    try {
      const [rows] = await conn.query({ sql: "SHOW STATUS LIKE 'wsrep_local_state_comment'", timeout: 1000 });
      return (rows as { Value: string }[])[0]?.Value === 'Synced';
    } finally {
      conn.destroy();
    }
  } catch {
    return false;
  }
}
