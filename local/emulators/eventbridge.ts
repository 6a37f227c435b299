/**
 * The local EventBridge: a loopback HTTP server speaking awsJson1_1 (`X-Amz-Target:
 * AWSEvents.<Operation>`) so that the unmodified `@aws-sdk/client-eventbridge` talks to it.
 *
 * PutEvents validates entries as the service does (per-entry ErrorCode/ErrorMessage and
 * FailedEntryCount; a request-level ValidationException for more than 10 entries or more than
 * 256 KB), builds the full event envelope, appends it to the archive file (one JSON line per
 * event), and delivers it to the targets of every matching rule. Deliveries run after the
 * response, as on AWS; `drain()` waits for them. A failing target is recorded on the stored
 * event and never fails the request or the server.
 *
 * Deliberately stricter than AWS: an entry for a bus that does not exist fails with
 * ResourceNotFoundException (AWS accepts it and drops the event silently), so a wrong bus name
 * shows up locally instead of in production.
 *
 * Also served: ListRules, DescribeEventBus, ListEventBuses, TestEventPattern.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Clock } from '../clock.js';
import { EventPatternError, matchesEventPattern, validateEventPattern } from './event-pattern.js';
import { listenOnLoopback } from './loopback.js';

export interface EventTarget {
  id: string;
  deliver(event: EventEnvelope): Promise<void>;
}

export interface EventRuleSpec {
  name: string;
  busName: string;
  eventPattern: object;
  targets: EventTarget[];
}

export interface StartEventBridgeOptions {
  clock: Clock;
  /** Every accepted event is appended here as one JSON line (the envelope). */
  archiveFile?: string;
  /** Custom buses; `default` always exists, as in every AWS account. */
  buses: string[];
  rules: EventRuleSpec[];
  accountId: string;
  region: string;
  /** 0 or absent: any free port. */
  port?: number;
}

/** The event as EventBridge hands it to targets. */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface Delivery {
  rule: string;
  targetId: string;
  status: 'pending' | 'succeeded' | 'failed';
  /** `<ErrorName>: <message>` of a failed delivery. */
  error?: string;
}

export interface StoredEvent {
  eventBusName: string;
  event: EventEnvelope;
  /** Names of the rules whose pattern matched. */
  matchedRules: string[];
  deliveries: Delivery[];
}

export interface LocalEventBridge {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Events accepted since start, in order (a copy). */
  events(): StoredEvent[];
  /** Resolves when every delivery started so far has finished. */
  drain(): Promise<void>;
  /** Waits for pending deliveries, then closes the server. */
  stop(): Promise<void>;
}

const MAX_ENTRIES = 10;
const MAX_REQUEST_ENTRIES_BYTES = 256 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;

class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function startEventBridge(options: StartEventBridgeOptions): Promise<LocalEventBridge> {
  const { clock, accountId, region } = options;
  if (!/^\d{12}$/.test(accountId)) throw new Error(`startEventBridge: accountId must be 12 digits, got "${accountId}"`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new Error(`startEventBridge: "${region}" is not a region name`);
  const buses = new Map<string, number>(); // name -> creation time (epoch ms)
  for (const name of ['default', ...options.buses]) {
    if (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(name)) throw new Error(`startEventBridge: invalid bus name "${name}"`);
    buses.set(name, clock.now());
  }
  const rules = options.rules.map((rule) => {
    if (!buses.has(rule.busName)) throw new Error(`startEventBridge: rule "${rule.name}" is on unknown bus "${rule.busName}"`);
    try {
      validateEventPattern(rule.eventPattern);
    } catch (error) {
      throw new Error(`startEventBridge: rule "${rule.name}": ${(error as Error).message}`);
    }
    return rule;
  });
  const seen = new Set<string>();
  for (const rule of rules) {
    const key = `${rule.busName}/${rule.name}`;
    if (seen.has(key)) throw new Error(`startEventBridge: duplicate rule "${rule.name}" on bus "${rule.busName}"`);
    seen.add(key);
  }
  if (options.archiveFile) mkdirSync(dirname(options.archiveFile), { recursive: true });

  const stored: StoredEvent[] = [];
  const pending = new Set<Promise<void>>();

  const busArn = (name: string) => `arn:aws:events:${region}:${accountId}:event-bus/${name}`;
  const ruleArn = (rule: EventRuleSpec) =>
    `arn:aws:events:${region}:${accountId}:rule/${rule.busName === 'default' ? '' : `${rule.busName}/`}${rule.name}`;
  /** Accepts a bus name or ARN, as the API does. */
  const busNameOf = (value: unknown): string | undefined => {
    if (value === undefined || value === null || value === '') return 'default';
    if (typeof value !== 'string') return undefined;
    const arn = /^arn:aws[\w-]*:events:[^:]*:\d{12}:event-bus\/(.+)$/.exec(value);
    return arn ? arn[1] : value;
  };

  function deliver(record: StoredEvent): void {
    for (const rule of rules.filter((r) => r.busName === record.eventBusName)) {
      if (!matchesEventPattern(rule.eventPattern, record.event)) continue;
      record.matchedRules.push(rule.name);
      for (const target of rule.targets) {
        const delivery: Delivery = { rule: rule.name, targetId: target.id, status: 'pending' };
        record.deliveries.push(delivery);
        // Each target gets its own copy, as separate deliveries do on AWS.
        const copy = structuredClone(record.event);
        const run = (async () => {
          await new Promise<void>((resolve) => setImmediate(resolve)); // after the PutEvents response
          try {
            await target.deliver(copy);
            delivery.status = 'succeeded';
          } catch (error) {
            delivery.status = 'failed';
            delivery.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          }
        })();
        pending.add(run);
        void run.finally(() => pending.delete(run));
      }
    }
  }

  function putEvents(input: JsonObject): JsonObject {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
      const count = Array.isArray(entries) ? entries.length : 0;
      throw new ServiceError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${count < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES}`}`,
      );
    }
    const size = entries.reduce<number>((sum, entry) => sum + entrySize(entry), 0);
    if (size > MAX_REQUEST_ENTRIES_BYTES) throw new ServiceError('ValidationException', 'Total size of the entries in the request is over the limit.');

    const results = entries.map((entry: unknown) => {
      const outcome = validateEntry(entry);
      if ('ErrorCode' in outcome) return outcome;
      const { busName, envelope } = outcome;
      const record: StoredEvent = { eventBusName: busName, event: envelope, matchedRules: [], deliveries: [] };
      stored.push(record);
      if (options.archiveFile) appendFileSync(options.archiveFile, `${JSON.stringify(envelope)}\n`);
      deliver(record);
      return { EventId: envelope.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  function validateEntry(entry: unknown): { ErrorCode: string; ErrorMessage: string } | { busName: string; envelope: EventEnvelope } {
    const invalid = (name: string, reason: string) => ({ ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${name} is not valid. Reason: ${reason}` });
    if (!isObject(entry)) return invalid('Entry', 'Entry must be an object.');
    const { Source, DetailType, Detail, Resources, Time, EventBusName } = entry;
    if (typeof Source !== 'string' || Source === '') return invalid('Source', 'Source is a required argument.');
    if (typeof DetailType !== 'string' || DetailType === '') return invalid('DetailType', 'DetailType is a required argument.');
    if (typeof Detail !== 'string' || Detail === '') return invalid('Detail', 'Detail is a required argument.');
    if (Resources !== undefined && (!Array.isArray(Resources) || !Resources.every((r) => typeof r === 'string'))) {
      return invalid('Resources', 'Resources must be a list of strings.');
    }
    if (Time !== undefined && (typeof Time !== 'number' || !Number.isFinite(Time))) return invalid('Time', 'Time must be a timestamp.');
    if (Source.toLowerCase().startsWith('aws.')) return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
    let detail: unknown;
    try {
      detail = JSON.parse(Detail);
    } catch {
      detail = undefined;
    }
    if (!isObject(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    const busName = busNameOf(EventBusName);
    if (busName === undefined || !buses.has(busName)) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${String(EventBusName)} does not exist.` };
    }
    const epochMs = typeof Time === 'number' ? Time * 1000 : clock.now();
    return {
      busName,
      envelope: {
        version: '0',
        id: randomUUID(),
        'detail-type': DetailType,
        source: Source,
        account: accountId,
        time: isoSeconds(epochMs),
        region,
        resources: (Resources as string[] | undefined) ?? [],
        detail,
      },
    };
  }

  function listRules(input: JsonObject): JsonObject {
    const busName = busNameOf(input.EventBusName);
    if (busName === undefined || !buses.has(busName)) throw new ServiceError('ResourceNotFoundException', `Event bus ${String(input.EventBusName)} does not exist.`);
    const limit = input.Limit === undefined ? 100 : Number(input.Limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ServiceError('ValidationException', 'Limit must be between 1 and 100.');
    const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
    const matching = rules.filter((r) => r.busName === busName && r.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
    const start = decodeToken(input.NextToken);
    const page = matching.slice(start, start + limit);
    const next = start + limit < matching.length ? encodeToken(start + limit) : undefined;
    return {
      Rules: page.map((rule) => ({
        Name: rule.name,
        Arn: ruleArn(rule),
        EventPattern: JSON.stringify(rule.eventPattern),
        State: 'ENABLED',
        EventBusName: rule.busName,
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }

  function describeBus(name: string): JsonObject {
    const created = buses.get(name);
    if (created === undefined) throw new ServiceError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return { Name: name, Arn: busArn(name), CreationTime: created / 1000, LastModifiedTime: created / 1000 };
  }

  function testEventPattern(input: JsonObject): JsonObject {
    if (typeof input.EventPattern !== 'string' || typeof input.Event !== 'string') {
      throw new ServiceError('ValidationException', 'EventPattern and Event are required strings.');
    }
    let pattern: unknown;
    let event: unknown;
    try {
      pattern = JSON.parse(input.EventPattern);
    } catch {
      throw new ServiceError('InvalidEventPatternException', 'Event pattern is not valid JSON.');
    }
    try {
      event = JSON.parse(input.Event);
    } catch {
      throw new ServiceError('InvalidArgument', 'Event is not valid JSON.');
    }
    if (!isObject(event)) throw new ServiceError('InvalidArgument', 'Event must be a JSON object.');
    try {
      return { Result: matchesEventPattern(pattern as object, event) };
    } catch (error) {
      if (error instanceof EventPatternError) throw new ServiceError('InvalidEventPatternException', error.message);
      throw error;
    }
  }

  const operations: Record<string, (input: JsonObject) => JsonObject> = {
    PutEvents: putEvents,
    ListRules: listRules,
    DescribeEventBus: (input) => {
      const name = busNameOf(input.Name);
      if (name === undefined) throw new ServiceError('ValidationException', 'Name must be a string.');
      return describeBus(name);
    },
    ListEventBuses: (input) => {
      const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
      return { EventBuses: [...buses.keys()].filter((n) => n.startsWith(prefix)).map((n) => describeBus(n)) };
    },
    TestEventPattern: testEventPattern,
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Only a bug here gets this far: answer like the service's InternalException.
      send(res, 500, { __type: 'InternalException', message: error instanceof Error ? error.message : 'internal error' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.headers['x-amz-target'];
    if (req.method !== 'POST' || typeof target !== 'string' || !target.startsWith('AWSEvents.')) {
      req.resume();
      return send(res, 400, { __type: 'UnknownOperationException', message: 'Expected POST / with X-Amz-Target: AWSEvents.<Operation>' });
    }
    const operation = operations[target.slice('AWSEvents.'.length)];
    let text: string;
    try {
      text = await readBody(req);
    } catch (error) {
      return send(res, 413, { __type: 'ValidationException', message: (error as Error).message });
    }
    if (!operation) return send(res, 400, { __type: 'UnknownOperationException', message: `Operation ${target} is not supported by the local EventBridge` });
    let input: unknown;
    try {
      input = text ? JSON.parse(text) : {};
    } catch {
      return send(res, 400, { __type: 'SerializationException', message: 'Request body is not valid JSON' });
    }
    if (!isObject(input)) return send(res, 400, { __type: 'SerializationException', message: 'Request body must be a JSON object' });
    try {
      send(res, 200, operation(input));
    } catch (error) {
      if (error instanceof ServiceError) return send(res, error.status, { __type: error.code, message: error.message });
      throw error;
    }
  }

  const endpoint = await listenOnLoopback(server, options.port);

  const drain = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };

  return {
    endpoint,
    events: () => stored.map((s) => ({ ...structuredClone(s) })),
    drain,
    async stop() {
      await drain();
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      server.closeIdleConnections();
      await closed;
    },
  };
}

/** ISO-8601 in UTC without milliseconds, as EventBridge writes `time`. */
const isoSeconds = (epochMs: number) => new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The entry size as EventBridge counts it (UTF-8 bytes of the fields; 14 bytes for Time). */
function entrySize(entry: unknown): number {
  if (!isObject(entry)) return 0;
  const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  let size = entry.Time === undefined ? 0 : 14;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  if (Array.isArray(entry.Resources)) for (const r of entry.Resources) size += bytes(r);
  return size;
}

const encodeToken = (index: number) => Buffer.from(JSON.stringify({ i: index })).toString('base64url');
function decodeToken(token: unknown): number {
  if (token === undefined || token === null) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as { i?: unknown };
    if (typeof parsed.i === 'number' && Number.isInteger(parsed.i) && parsed.i >= 0) return parsed.i;
  } catch {
    // fall through
  }
  throw new ServiceError('ValidationException', 'The provided NextToken is not valid.');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      // Keep reading (so the answer can be sent) but stop keeping what is too large.
      if (length <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (length > MAX_BODY_BYTES ? reject(new Error('Request body is too large')) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: JsonObject): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
  };
  if (status >= 400 && typeof body.__type === 'string') headers['x-amzn-ErrorType'] = body.__type;
  res.writeHead(status, headers);
  res.end(text);
}
