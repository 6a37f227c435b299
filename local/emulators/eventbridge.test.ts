import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeEventBusCommand,
  EventBridgeClient,
  ListRulesCommand,
  PutEventsCommand,
  ResourceNotFoundException,
  TestEventPatternCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { VirtualClock } from '../clock.js';
import { startEventBridge, type EventEnvelope, type LocalEventBridge } from './eventbridge.js';

const ACCOUNT = '123456789012';
const BUS = 'chartflow-bus';

describe('local EventBridge', () => {
  let dir: string;
  let bus: LocalEventBridge;
  let client: EventBridgeClient;
  const clock = new VirtualClock(Date.UTC(2026, 0, 1, 12, 0, 0, 789));
  const completed: EventEnvelope[] = [];
  const everything: EventEnvelope[] = [];

  const entry = (overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
    EventBusName: BUS,
    Source: 'chartflow',
    DetailType: 'Batch Completed',
    Detail: JSON.stringify({ version: '1', batchId: 'b-1' }),
    ...overrides,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chartflow-eb-'));
    bus = await startEventBridge({
      clock,
      archiveFile: join(dir, 'events', 'archive.jsonl'),
      buses: [BUS],
      accountId: ACCOUNT,
      region: 'us-east-1',
      rules: [
        {
          name: 'batch-completed',
          busName: BUS,
          eventPattern: { source: ['chartflow'], 'detail-type': ['Batch Completed'] },
          targets: [
            {
              id: 'collector',
              deliver: async (event) => {
                completed.push(event);
              },
            },
            {
              id: 'broken',
              deliver: async () => {
                throw new TypeError('target exploded');
              },
            },
          ],
        },
        {
          name: 'all-chartflow',
          busName: BUS,
          eventPattern: { source: [{ prefix: 'chart' }] },
          targets: [{ id: 'everything', deliver: async (event) => void everything.push(event) }],
        },
        { name: 'other-bus-rule', busName: 'default', eventPattern: { source: ['chartflow'] }, targets: [] },
      ],
    });
    client = new EventBridgeClient({
      endpoint: bus.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await bus.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts an event, builds the envelope, archives it and delivers it to matching targets', async () => {
    const result = await client.send(new PutEventsCommand({ Entries: [entry({ Resources: ['arn:aws:s3:::docs'] })] }));
    expect(result.FailedEntryCount).toBe(0);
    const eventId = result.Entries?.[0]?.EventId;
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);

    await bus.drain();
    const expected = {
      version: '0',
      id: eventId,
      'detail-type': 'Batch Completed',
      source: 'chartflow',
      account: ACCOUNT,
      time: '2026-01-01T12:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:s3:::docs'],
      detail: { version: '1', batchId: 'b-1' },
    };
    expect(completed).toEqual([expected]);
    expect(everything).toEqual([expected]);

    const [stored] = bus.events();
    expect(stored).toMatchObject({ eventBusName: BUS, event: expected, matchedRules: ['batch-completed', 'all-chartflow'] });
    expect(stored?.deliveries).toEqual([
      { rule: 'batch-completed', targetId: 'collector', status: 'succeeded' },
      { rule: 'batch-completed', targetId: 'broken', status: 'failed', error: 'TypeError: target exploded' },
      { rule: 'all-chartflow', targetId: 'everything', status: 'succeeded' },
    ]);

    const archive = (await readFile(join(dir, 'events', 'archive.jsonl'), 'utf8')).trim().split('\n');
    expect(archive.map((line) => JSON.parse(line) as unknown)).toEqual([expected]);
  });

  it('uses the entry Time when given and the bus ARN as a name', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [entry({ DetailType: 'Batch Failed', Time: new Date('2025-06-01T08:09:10.500Z'), EventBusName: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/${BUS}` })],
      }),
    );
    expect(result.FailedEntryCount).toBe(0);
    await bus.drain();
    const last = bus.events().at(-1);
    expect(last?.event.time).toBe('2025-06-01T08:09:10Z');
    expect(last?.matchedRules).toEqual(['all-chartflow']);
  });

  it('reports per-entry failures like the service and keeps the valid entries', async () => {
    const before = bus.events().length;
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ Source: undefined }),
          entry({ DetailType: undefined }),
          entry({ Detail: undefined }),
          entry({ Detail: '{not json' }),
          entry({ Detail: '[1,2]' }),
          entry({ EventBusName: 'no-such-bus' }),
          entry({ Source: 'aws.s3' }),
          entry(),
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(7);
    expect(result.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'InvalidArgument',
      'InvalidArgument',
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'ResourceNotFoundException',
      'NotAuthorizedForSourceException',
      'ok',
    ]);
    expect(result.Entries?.[0]?.ErrorMessage).toBe('Parameter Source is not valid. Reason: Source is a required argument.');
    expect(result.Entries?.[3]?.ErrorMessage).toBe('Detail is malformed.');
    expect(result.Entries?.[7]?.EventId).toBeDefined();
    expect(bus.events().length).toBe(before + 1);
  });

  it('rejects more than 10 entries and oversized requests with ValidationException', async () => {
    await expect(client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry()) }))).rejects.toMatchObject({ name: 'ValidationException' });
    const big = JSON.stringify({ pad: 'x'.repeat(300 * 1024) });
    await expect(client.send(new PutEventsCommand({ Entries: [entry({ Detail: big })] }))).rejects.toThrow('Total size of the entries');
  });

  it('puts events on the default bus when no bus is named', async () => {
    const result = await client.send(new PutEventsCommand({ Entries: [entry({ EventBusName: undefined })] }));
    expect(result.FailedEntryCount).toBe(0);
    expect(bus.events().at(-1)).toMatchObject({ eventBusName: 'default', matchedRules: ['other-bus-rule'] });
  });

  it('lists rules with pagination and describes buses', async () => {
    const first = await client.send(new ListRulesCommand({ EventBusName: BUS, Limit: 1 }));
    expect(first.Rules?.map((r) => r.Name)).toEqual(['all-chartflow']);
    expect(first.Rules?.[0]).toMatchObject({
      Arn: `arn:aws:events:us-east-1:${ACCOUNT}:rule/${BUS}/all-chartflow`,
      State: 'ENABLED',
      EventBusName: BUS,
      EventPattern: JSON.stringify({ source: [{ prefix: 'chart' }] }),
    });
    const second = await client.send(new ListRulesCommand({ EventBusName: BUS, Limit: 1, NextToken: first.NextToken }));
    expect(second.Rules?.map((r) => r.Name)).toEqual(['batch-completed']);
    expect(second.NextToken).toBeUndefined();

    const described = await client.send(new DescribeEventBusCommand({ Name: BUS }));
    expect(described.Arn).toBe(`arn:aws:events:us-east-1:${ACCOUNT}:event-bus/${BUS}`);
    expect(described.CreationTime).toEqual(new Date(Date.UTC(2026, 0, 1, 12, 0, 0, 789)));
    expect((await client.send(new DescribeEventBusCommand({}))).Name).toBe('default');
    await expect(client.send(new DescribeEventBusCommand({ Name: 'nope' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers TestEventPattern with the same matcher', async () => {
    const event = JSON.stringify({ source: 'chartflow', 'detail-type': 'Batch Failed', detail: { count: 3 } });
    const yes = await client.send(new TestEventPatternCommand({ EventPattern: JSON.stringify({ detail: { count: [{ numeric: ['>', 2] }] } }), Event: event }));
    expect(yes.Result).toBe(true);
    const no = await client.send(new TestEventPatternCommand({ EventPattern: JSON.stringify({ source: ['other'] }), Event: event }));
    expect(no.Result).toBe(false);
    await expect(client.send(new TestEventPatternCommand({ EventPattern: '{"source":"x"}', Event: event }))).rejects.toThrow('match values must be in a JSON array');
  });

  it('refuses invalid configuration at start', async () => {
    const base = { clock, buses: [BUS], accountId: ACCOUNT, region: 'us-east-1' };
    await expect(startEventBridge({ ...base, rules: [{ name: 'r', busName: 'missing', eventPattern: { source: ['x'] }, targets: [] }] })).rejects.toThrow(
      'unknown bus "missing"',
    );
    await expect(startEventBridge({ ...base, rules: [{ name: 'r', busName: BUS, eventPattern: { source: 'x' }, targets: [] }] })).rejects.toThrow('rule "r"');
    await expect(startEventBridge({ ...base, accountId: '42', rules: [] })).rejects.toThrow('12 digits');
  });
});
