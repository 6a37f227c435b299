/**
 * The analysis behind the emulator: Chartflow's offline clinical NLP engine (local/nlp). Its
 * responses already have the DetectEntitiesV2 / InferSNOMEDCT shapes and label themselves with
 * the engine's ModelVersion, which is also the ModelVersion the batch jobs report.
 */
import { ENGINE_MODEL_VERSION, detectEntitiesV2, inferSnomedCt } from '../../nlp/index.js';
import type { JobKind } from './jobs.js';

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
