import { startServerWorker } from './worker.js';

const CLOSE_SERVER = new URL('./fixtures/close-server.ts', import.meta.url);

describe('server workers', () => {
  it('start, report their port and stop', async () => {
    const server = await startServerWorker(CLOSE_SERVER, { failClose: false }, 'test server');
    expect(server.port).toBe(1);
    await expect(server.stop()).resolves.toBeUndefined();
  });

  it('report a server that failed to close instead of waiting for it, and still end the thread', async () => {
    const server = await startServerWorker(CLOSE_SERVER, { failClose: true }, 'test server');
    let exited = false;
    server.worker.once('exit', () => (exited = true));
    await expect(server.stop()).rejects.toThrow('test server: close failed');
    expect(exited).toBe(true);
  });
});
