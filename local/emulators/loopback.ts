import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Starts a server on 127.0.0.1 (never another interface: the runtime is local-only) and returns
 * its `http://127.0.0.1:<port>` endpoint. Port 0 or absent: any free port. A failure to bind
 * (e.g. the port is taken) rejects instead of crashing the process.
 */
export async function listenOnLoopback(server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
