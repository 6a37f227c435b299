/**
 * The analysis behind the emulator: Chartflow's offline clinical NLP engine (local/nlp). Its
 * responses already have the DetectEntitiesV2 / InferSNOMEDCT shapes and label themselves with
 * the engine's ModelVersion, which is also the ModelVersion the batch jobs report.
 */
import { ENGINE_MODEL_VERSION, detectEntitiesV2, inferSnomedCt } from '../../nlp/index.js';
import { firstMessage, startWorker } from '../worker.js';
import type { JobKind } from './jobs.js';
import type { BatchEngine } from './outputs.js';

export interface CmEngine {
  detectEntitiesV2(text: string): object;
  inferSnomedCt(text: string): object;
  modelVersion(kind: JobKind): string;
}

export const localEngine: CmEngine = {
  detectEntitiesV2,
  inferSnomedCt,
  modelVersion: () => ENGINE_MODEL_VERSION,
};

export interface EngineRequest {
  id: number;
  kind: JobKind;
  text: string;
}
export type EngineReply = { id: number; json: string } | { id: number; error: string };

/**
 * The engine for batch jobs, in a worker thread: a job's documents are analysed on another core
 * while the emulator reads and writes them through S3. Same engine, same responses.
 */
export async function startBatchEngine(): Promise<BatchEngine & { stop(): Promise<void> }> {
  const worker = startWorker(new URL('./engine-worker.ts', import.meta.url), undefined);
  await firstMessage(worker);
  const pending = new Map<number, { resolve(json: string): void; reject(error: Error): void }>();
  let nextId = 0;
  worker.on('message', (reply: EngineReply) => {
    const call = pending.get(reply.id);
    pending.delete(reply.id);
    if ('json' in reply) call?.resolve(reply.json);
    else call?.reject(Object.assign(new Error('the engine failed on a document'), { name: reply.error }));
  });
  let gone: Error | undefined;
  const failAll = (error: Error) => {
    gone ??= error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', () => failAll(new Error('the engine worker exited')));
  return {
    analyse(kind, text) {
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        if (gone) return reject(gone);
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, kind, text } satisfies EngineRequest);
      });
    },
    async stop() {
      await worker.terminate();
    },
  };
}
