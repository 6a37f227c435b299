/**
 * Counts the requests the pipeline makes to each local service, by operation, from Node's own
 * HTTP client diagnostics channels: every SDK client of the process (Lambdas, state machine tasks,
 * emulators calling S3) is seen, nothing is changed (DynamoDB batch bodies are read on their way
 * out, to count their items).
 */
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

export type RequestCounts = Record<string, Record<string, number>>;

export interface Meter {
  /** Requests so far: service -> operation -> count. */
  counts(): RequestCounts;
  stop(): void;
}

/**
 * Names an S3 request as S3 bills it (PUT/COPY/POST/LIST are one class, GET/HEAD the other),
 * followed by the area of the bucket it touches (`inbox`, `batches/input`, `records`...).
 */
export function s3Operation(method: string, requestPath: string, copySource: boolean): string {
  const [pathname = '', query = ''] = requestPath.split('?');
  const [, , ...key] = pathname.split('/'); // path style: /<bucket>/<key>
  const area = key[0] === 'batches' ? `batches/${key[2] ?? ''}` : (key[0] ?? '');
  const m = method.toUpperCase();
  if (m === 'GET' && /(^|&)(list-type=|prefix=|delimiter=)/.test(query)) return `LIST ${decodeURIComponent(/(?:^|&)prefix=([^&]*)/.exec(query)?.[1] ?? '').split('/')[0]}`;
  if (m === 'PUT' && copySource) return `COPY ${area}`;
  return `${m} ${area}`;
}

/** Starts counting; `services` maps each local endpoint (`http://127.0.0.1:<port>`) to a service name. */
export function startMeter(services: Record<string, string>): Meter {
  const byHost = new Map(Object.entries(services).map(([name, endpoint]) => [new URL(endpoint).host, name]));
  const counts: RequestCounts = {};
  const serviceOf = (request: ClientRequest) => byHost.get(String(request.getHeader('host') ?? `${request.host}`));
  const listener = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    const service = serviceOf(request);
    if (!service) return;
    const target = request.getHeader('x-amz-target');
    const operation = service === 's3' ? s3Operation(request.method, request.path, request.getHeader('x-amz-copy-source') !== undefined) : typeof target === 'string' ? target.split('.').pop()! : `${request.method} ${request.path.split('?')[0]!.replace(/\/[0-9a-f]{32}/g, '/{id}')}`;
    const perService = (counts[service] ??= {});
    perService[operation] = (perService[operation] ?? 0) + 1;
  };
  // DynamoDB bills batch operations per item: the body is read as the client sends it (`<op> items`).
  // (At `request.start` the body is sent already; `request.created` comes before it.)
  const created = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    if (serviceOf(request) !== 'dynamodb') return;
    const operation = String(request.getHeader('x-amz-target') ?? '').split('.').pop();
    if (operation !== 'BatchGetItem' && operation !== 'BatchWriteItem') return;
    const end = request.end.bind(request) as (...args: unknown[]) => ClientRequest;
    request.end = ((...args: unknown[]) => {
      const perService = (counts.dynamodb ??= {});
      perService[`${operation} items`] = (perService[`${operation} items`] ?? 0) + batchItemCount(operation, args[0]);
      return end(...args);
    }) as typeof request.end;
  };
  diagnostics.subscribe('http.client.request.start', listener);
  diagnostics.subscribe('http.client.request.created', created);
  return {
    counts: () => structuredClone(counts),
    stop: () => {
      diagnostics.unsubscribe('http.client.request.start', listener);
      diagnostics.unsubscribe('http.client.request.created', created);
    },
  };
}

/** Items a BatchGetItem (keys) or BatchWriteItem (requests) body asks for; 0 if it cannot be read. */
export function batchItemCount(operation: 'BatchGetItem' | 'BatchWriteItem', body: unknown): number {
  try {
    const text = typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : '';
    const requestItems = (JSON.parse(text) as { RequestItems?: Record<string, unknown> }).RequestItems ?? {};
    return Object.values(requestItems).reduce<number>((n, v) => n + (operation === 'BatchGetItem' ? ((v as { Keys?: unknown[] }).Keys?.length ?? 0) : Array.isArray(v) ? v.length : 0), 0);
  } catch {
    return 0;
  }
}

/** The sum of a service's counts, optionally only the operations `include` accepts. */
export function total(counts: RequestCounts, service: string, include: (operation: string) => boolean = () => true): number {
  return Object.entries(counts[service] ?? {}).filter(([op]) => include(op)).reduce((n, [, c]) => n + c, 0);
}
