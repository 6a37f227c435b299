/**
 * The cost model: what a run used, priced at the list prices of bench/prices.ts. Pure functions;
 * the measuring is done elsewhere (bench/pipeline.ts).
 */
import { PRICES, type PriceName } from './prices.js';

/** What a run used (counted on the offline runtime, or derived where noted). */
export interface Usage {
  documents: number;
  stateTransitions: number;
  lambdaRequests: number;
  lambdaGbSeconds: number;
  sqsRequests: number;
  dynamoWriteUnits: number;
  dynamoReadUnits: number;
  events: number;
  s3Writes: number;
  s3Reads: number;
  /** Comprehend Medical units (100 characters, at least 1 per document) of each job type. */
  nereUnits: number;
  snomedUnits: number;
  /** Records processed by Entity Resolution, over all matching runs. */
  matchingRecords: number;
}

export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  usd: number;
  price: { usd: number; per: number; source: string; read: string; checked: string };
}

/** Comprehend Medical units of one document: 100 characters each, 1 unit minimum. */
export function cmUnits(characters: number): number {
  if (!Number.isFinite(characters) || characters < 0) throw new Error(`cmUnits: expected a character count, got ${characters}`);
  return Math.max(1, Math.ceil(characters / 100));
}

/**
 * SQS requests for `messages` notifications through the ingest queue: one SendMessage each (S3),
 * and Lambda's poller receives and deletes in batches of up to 10. The poller's empty long polls
 * are a fixed monthly cost (a few cents), not a per-document one.
 */
export function sqsRequestsFor(messages: number): number {
  return messages + 2 * Math.ceil(messages / 10);
}

const LINES: Array<[keyof Usage, PriceName, string]> = [
  ['stateTransitions', 'stepFunctionsTransition', 'Step Functions state transitions'],
  ['lambdaRequests', 'lambdaRequest', 'Lambda requests'],
  ['lambdaGbSeconds', 'lambdaArmGbSecond', 'Lambda compute (arm64 GB-s)'],
  ['sqsRequests', 'sqsRequest', 'SQS requests'],
  ['dynamoWriteUnits', 'dynamoWrite', 'DynamoDB writes'],
  ['dynamoReadUnits', 'dynamoRead', 'DynamoDB reads'],
  ['events', 'eventBridgeEvent', 'EventBridge events'],
  ['s3Writes', 's3Write', 'S3 PUT/COPY/LIST'],
  ['s3Reads', 's3Read', 'S3 GET/HEAD'],
  ['nereUnits', 'comprehendMedicalNere', 'Comprehend Medical entities (NERe)'],
  ['snomedUnits', 'comprehendMedicalSnomed', 'Comprehend Medical SNOMED CT'],
  ['matchingRecords', 'entityResolutionRecord', 'Entity Resolution records'],
];

/** Every priced item of `usage`, scaled to `perDocuments` documents (default: as measured). */
export function costBreakdown(usage: Usage, perDocuments = usage.documents): CostLine[] {
  if (usage.documents <= 0) throw new Error('costBreakdown: a run with no documents has no cost per document');
  const scale = perDocuments / usage.documents;
  return LINES.map(([field, priceName, item]) => {
    const price = PRICES[priceName];
    const quantity = usage[field] * scale;
    return {
      item,
      quantity,
      unit: price.unit,
      usd: (quantity * price.usd) / price.per,
      price: { usd: price.usd, per: price.per, source: price.source, read: price.read, checked: price.checked },
    };
  });
}

export const totalUsd = (lines: CostLine[]) => lines.reduce((sum, line) => sum + line.usd, 0);
