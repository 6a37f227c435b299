import { cmUnits, costBreakdown, sqsRequestsFor, totalUsd, type Usage } from '../../bench/cost.js';
import { PRICES, type Price } from '../../bench/prices.js';

const usage: Usage = {
  documents: 500,
  stateTransitions: 1000,
  lambdaRequests: 10,
  lambdaGbSeconds: 20,
  sqsRequests: 600,
  dynamoWriteUnits: 1000,
  dynamoReadUnits: 40,
  events: 4,
  s3Writes: 2000,
  s3Reads: 3000,
  nereUnits: 10_000,
  snomedUnits: 10_000,
  matchingRecords: 500,
};

describe('cost model', () => {
  test('Comprehend Medical units: 100 characters each, at least one per document', () => {
    expect(cmUnits(0)).toBe(1);
    expect(cmUnits(1)).toBe(1);
    expect(cmUnits(100)).toBe(1);
    expect(cmUnits(101)).toBe(2);
    expect(cmUnits(3_450)).toBe(35);
    expect(() => cmUnits(-1)).toThrow(/character count/);
  });

  test('SQS: one send per notification, receives and deletes in tens', () => {
    expect(sqsRequestsFor(0)).toBe(0);
    expect(sqsRequestsFor(1)).toBe(3);
    expect(sqsRequestsFor(1000)).toBe(1200);
  });

  test('each line is quantity × price / per, scaled to the documents asked for', () => {
    const lines = costBreakdown(usage, 1000);
    const transitions = lines.find((l) => l.item === 'Step Functions state transitions')!;
    expect(transitions.quantity).toBe(2000);
    expect(transitions.usd).toBeCloseTo((2000 * 0.025) / 1000, 10);
    const nere = lines.find((l) => l.item.includes('NERe'))!;
    expect(nere.usd).toBeCloseTo(20_000 * PRICES.comprehendMedicalNere.usd, 8);
    expect(totalUsd(lines)).toBeCloseTo(lines.reduce((s, l) => s + l.usd, 0), 10);
    // Every priced field of Usage appears once, with its source and date.
    expect(lines).toHaveLength(Object.keys(usage).length - 1);
    for (const l of lines) expect(l.price.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });

  test('unscaled by default; a run without documents is refused', () => {
    expect(costBreakdown(usage)[0]!.quantity).toBe(1000);
    expect(() => costBreakdown({ ...usage, documents: 0 })).toThrow(/no documents/);
  });

  test('every price names its unit, source and the date it was read', () => {
    for (const [name, p] of Object.entries(PRICES)) {
      expect({ name, ok: p.usd > 0 && p.per > 0 && p.unit.length > 5 && /^\d{4}-\d{2}-\d{2}$/.test(p.read) }).toEqual({ name, ok: true });
      // A price confirmed only by a third party says where; an AWS page is always the source.
      const price: Price = p;
      expect({ name, ok: /^https:\/\/aws\.amazon\.com\//.test(price.source) && (price.checked === 'secondary') === /^https:\/\//.test(price.confirmedBy ?? '') }).toEqual({ name, ok: true });
    }
  });
});

describe('request meter', () => {
  test('S3 requests are named by billing class and bucket area', async () => {
    const { s3Operation } = await import('../../bench/meter.js');
    expect(s3Operation('PUT', '/docs/inbox/a/b.txt', false)).toBe('PUT inbox');
    expect(s3Operation('PUT', '/docs/batches/B1/input/d.txt', true)).toBe('COPY batches/input');
    expect(s3Operation('GET', '/docs/batches/B1/output/entities/x.out?x-id=GetObject', false)).toBe('GET batches/output');
    expect(s3Operation('GET', '/docs?list-type=2&prefix=records%2F', false)).toBe('LIST records');
    expect(s3Operation('HEAD', '/docs/inbox/a.txt', false)).toBe('HEAD inbox');
  });

  test('DynamoDB batch operations are counted per item as well as per request, as they are billed', async () => {
    const { startMeter, total, batchItemCount } = await import('../../bench/meter.js');
    const { createServer } = await import('node:http');
    const { DynamoDBClient, BatchGetItemCommand, BatchWriteItemCommand, GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const endpoint = `http://127.0.0.1:${port}`;
    const meter = startMeter({ dynamodb: endpoint });
    const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    try {
      const key = (id: string) => ({ pk: { S: id }, sk: { S: 'DOC' } });
      await client.send(new BatchGetItemCommand({ RequestItems: { t: { Keys: [key('1'), key('2'), key('3')], ConsistentRead: true } } }));
      await client.send(new BatchWriteItemCommand({ RequestItems: { t: [{ PutRequest: { Item: key('4') } }, { DeleteRequest: { Key: key('5') } }] } }));
      await client.send(new GetItemCommand({ TableName: 't', Key: key('6') }));
      const counts = meter.counts();
      expect(counts.dynamodb).toEqual({ BatchGetItem: 1, 'BatchGetItem items': 3, BatchWriteItem: 1, 'BatchWriteItem items': 2, GetItem: 1 });
      expect(total(counts, 'dynamodb', (op) => ['GetItem', 'BatchGetItem items'].includes(op))).toBe(4);
    } finally {
      meter.stop();
      client.destroy();
      server.close();
    }
    expect(batchItemCount('BatchGetItem', 'not json')).toBe(0);
  });
});
