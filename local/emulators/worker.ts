/**
 * Worker threads for the emulators' heavy parts, so that the offline runtime uses a second core.
 * A worker is a fresh module graph: it is given tsx's loader explicitly (under jest the parent has
 * none to inherit), so it can load the project's TypeScript as the parent does.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, Worker, workerData } from 'node:worker_threads';

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Starts `entry` (a module URL) in a worker thread with `workerData`. */
export function startWorker(entry: URL, data: unknown): Worker {
  const execArgv = process.execArgv.includes(TSX_LOADER) ? process.execArgv : [...process.execArgv, '--import', TSX_LOADER];
  return new Worker(entry, { workerData: data, execArgv });
}

/** Resolves with the worker's first message; rejects if it fails or exits before sending one. */
export function firstMessage<T>(worker: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`worker ${String(worker.threadId)} exited with code ${code} before it was ready`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (message: T) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      resolve(message);
    });
  });
}

/** The life cycle messages of a server worker; services add their own messages beside them. */
export type LifecycleMessage = { type: 'ready'; port: number } | { type: 'failed'; message: string } | { type: 'stopped' };

export interface ServerWorker {
  worker: Worker;
  port: number;
  /** Closes the server, then ends the thread. */
  stop(): Promise<void>;
}

/** Starts a loopback server in a worker thread (its entry calls `serveFromWorker`). */
export async function startServerWorker(entry: URL, data: unknown, name: string): Promise<ServerWorker> {
  const worker = startWorker(entry, data);
  const ready = await firstMessage<LifecycleMessage>(worker);
  if (ready.type !== 'ready') {
    await worker.terminate();
    throw new Error(`${name}: ${ready.type === 'failed' ? ready.message : 'the server did not start'}`);
  }
  // The server is part of the runtime: its failure is the process's, as when it ran in-process.
  worker.on('error', (error) => {
    throw error;
  });
  return {
    worker,
    port: ready.port,
    async stop() {
      // The thread ends either way; a server that failed to close is reported, never waited on.
      const stopped = new Promise<string | undefined>((resolve) =>
        worker.on('message', (m: LifecycleMessage) => {
          if (m.type === 'stopped') resolve(undefined);
          else if (m.type === 'failed') resolve(m.message);
        }),
      );
      worker.postMessage({ type: 'stop' });
      const failure = await stopped;
      await worker.terminate();
      if (failure !== undefined) throw new Error(`${name}: ${failure}`);
    },
  };
}

/** The worker side of `startServerWorker`: starts the server with the worker's data, closes it on request. */
export function serveFromWorker<T>(start: (data: T) => Promise<{ port: number; close(): Promise<void> }>): void {
  const port = parentPort;
  if (!port) return;
  start(workerData as T).then(
    (server) => {
      port.on('message', (message: { type?: string }) => {
        if (message.type !== 'stop') return;
        server.close().then(
          () => port.postMessage({ type: 'stopped' } satisfies LifecycleMessage),
          (error: unknown) => port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies LifecycleMessage),
        );
      });
      port.postMessage({ type: 'ready', port: server.port } satisfies LifecycleMessage);
    },
    (error: unknown) => port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies LifecycleMessage),
  );
}
