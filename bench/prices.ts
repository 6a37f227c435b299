/**
 * Public list prices used by the cost model (US East (N. Virginia), on-demand, first pricing tier,
 * free tiers ignored). Each price names its unit, where it was read and when; `checked` says how:
 * `page` when the figure was read on the cited page; `secondary` when the AWS page could not be
 * read but a dated third-party summary (`confirmedBy`) gives the same figure; `recalled` when the
 * figure could be confirmed nowhere (verify before quoting it).
 */
export interface Price {
  /** US dollars per `per` units. */
  usd: number;
  per: number;
  unit: string;
  source: string;
  read: string;
  checked: 'page' | 'secondary' | 'recalled';
  /** For `secondary`: where the same figure was read. */
  confirmedBy?: string;
}

const READ = '2026-11-23';

export const PRICES = {
  stepFunctionsTransition: {
    usd: 0.025, per: 1000, unit: 'Standard workflow state transitions (retries included)',
    source: 'https://aws.amazon.com/step-functions/pricing/', read: READ, checked: 'page',
  },
  lambdaRequest: {
    usd: 0.2, per: 1_000_000, unit: 'Lambda requests',
    source: 'https://aws.amazon.com/lambda/pricing/', read: READ, checked: 'page',
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334, per: 1, unit: 'Lambda GB-seconds on arm64 (first tier)',
    source: 'https://aws.amazon.com/lambda/pricing/', read: READ, checked: 'page',
  },
  sqsRequest: {
    usd: 0.4, per: 1_000_000, unit: 'SQS standard requests (64 KB chunks)',
    source: 'https://aws.amazon.com/sqs/pricing/', read: READ, checked: 'secondary',
    confirmedBy: 'https://cloudburn.io/blog/amazon-sqs-pricing (US East, March 2026)',
  },
  dynamoWrite: {
    usd: 0.625, per: 1_000_000, unit: 'DynamoDB on-demand write request units (1 KB)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/', read: READ, checked: 'page',
  },
  dynamoRead: {
    usd: 0.125, per: 1_000_000, unit: 'DynamoDB on-demand read request units (4 KB, strongly consistent)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/', read: READ, checked: 'page',
  },
  eventBridgeEvent: {
    usd: 1.0, per: 1_000_000, unit: 'EventBridge custom events published (64 KB chunks)',
    source: 'https://aws.amazon.com/eventbridge/pricing/', read: READ, checked: 'secondary',
    confirmedBy: 'https://cloudburn.io/blog/amazon-eventbridge-pricing (US East, March 2026)',
  },
  s3Write: {
    usd: 0.005, per: 1000, unit: 'S3 Standard PUT, COPY, POST, LIST requests',
    source: 'https://aws.amazon.com/s3/pricing/', read: READ, checked: 'recalled',
  },
  s3Read: {
    usd: 0.0004, per: 1000, unit: 'S3 Standard GET and other requests',
    source: 'https://aws.amazon.com/s3/pricing/', read: READ, checked: 'recalled',
  },
  comprehendMedicalNere: {
    // The unit (100 characters, 1 unit minimum per request) is read on the page; the figure is recalled.
    usd: 0.01, per: 1, unit: 'Comprehend Medical NERe (DetectEntitiesV2) units of 100 characters, 1 unit minimum per document',
    source: 'https://aws.amazon.com/comprehend/medical/pricing/', read: READ, checked: 'recalled',
  },
  comprehendMedicalSnomed: {
    usd: 0.0075, per: 1, unit: 'Comprehend Medical SNOMED CT ontology linking units of 100 characters, 1 unit minimum per document',
    source: 'https://aws.amazon.com/comprehend/medical/pricing/', read: READ, checked: 'recalled',
  },
  entityResolutionRecord: {
    usd: 0.25, per: 1000, unit: 'Entity Resolution rule-based matching, records processed',
    source: 'https://aws.amazon.com/entity-resolution/pricing/', read: READ, checked: 'secondary',
    confirmedBy: 'https://awsi.click/en/articles/entity-resolution-record-matching/',
  },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICES;
