/**
 * Worker thread entry of the batch engine (see `startBatchEngine` in engine.ts): analyses one
 * document per request and answers with the response's JSON text, so that the serialisation of
 * large responses is done here too.
 */
import { parentPort } from 'node:worker_threads';
import { localEngine } from './engine.js';
import type { EngineReply, EngineRequest } from './engine.js';

if (parentPort) {
  const port = parentPort;
  port.on('message', ({ id, kind, text }: EngineRequest) => {
    try {
      const response = kind === 'EntitiesDetectionV2' ? localEngine.detectEntitiesV2(text) : localEngine.inferSnomedCt(text);
      port.postMessage({ id, json: JSON.stringify(response) } satisfies EngineReply);
    } catch (error) {
      // The name only: a message could quote document text.
      port.postMessage({ id, error: error instanceof Error ? error.name : 'Error' } satisfies EngineReply);
    }
  });
  port.postMessage('ready');
  // Lexicons load and the tries build on the first call (~0.4 s): do it now, while the runtime
  // starts on the main thread, rather than in the first job. Requests queue meanwhile.
  localEngine.detectEntitiesV2('warm up');
  localEngine.inferSnomedCt('warm up');
}
