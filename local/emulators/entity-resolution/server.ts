/**
 * The HTTP face of the local Entity Resolution: restJson1 on 127.0.0.1, so the unmodified
 * `@aws-sdk/client-entityresolution` (endpoint override, any credentials) talks to it.
 *
 * Emulated: StartMatchingJob, GetMatchingJob, ListMatchingJobs, GetMatchingWorkflow,
 * ListMatchingWorkflows, GetSchemaMapping. Every other operation of the model answers as the
 * real service would for an account holding only these resources: reads of ID-mapping
 * workflows, ID namespaces, policies or provider services get ResourceNotFoundException (404);
 * the rest a ValidationException (400) saying the emulator does not support it. A path or method
 * of no operation gets 404 UnknownOperationException.
 *
 * Errors: status + `X-Amzn-Errortype: <Code>` + `{"message": ...}`. Faults (`er.throttle`,
 * `er.internal`) are drawn once per call of an emulated operation from the seeded generator.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Logger } from '@aws-lambda-powertools/logger';
import { seededRandom } from '../../faults.js';
import { ServiceError, queryInteger } from './model.js';
import { EntityResolutionService } from './service.js';
import type { EmulatorLogger, EntityResolutionEmulator, EntityResolutionEmulatorOptions } from './types.js';
import { listenOnLoopback } from '../loopback.js';

type Handler = (params: string[], query: URLSearchParams) => unknown;

interface Route {
  operation: string;
  method: string;
  /** Path segments; `*` is a label. */
  segments: string[];
}

const route = (operation: string, method: string, path: string): Route => ({
  operation,
  method,
  segments: path.split('/').filter(Boolean).map((s) => (s.startsWith('{') ? '*' : s)),
});

/** Every operation of entityresolution-2018-05-10 (method and URI from its @http traits). */
const ROUTES: Route[] = [
  route('StartMatchingJob', 'POST', '/matchingworkflows/{workflowName}/jobs'),
  route('GetMatchingJob', 'GET', '/matchingworkflows/{workflowName}/jobs/{jobId}'),
  route('ListMatchingJobs', 'GET', '/matchingworkflows/{workflowName}/jobs'),
  route('GetMatchingWorkflow', 'GET', '/matchingworkflows/{workflowName}'),
  route('ListMatchingWorkflows', 'GET', '/matchingworkflows'),
  route('GetSchemaMapping', 'GET', '/schemas/{schemaName}'),
  // Not emulated: reads of resources this account never has.
  route('GetIdMappingJob', 'GET', '/idmappingworkflows/{workflowName}/jobs/{jobId}'),
  route('ListIdMappingJobs', 'GET', '/idmappingworkflows/{workflowName}/jobs'),
  route('GetIdMappingWorkflow', 'GET', '/idmappingworkflows/{workflowName}'),
  route('GetIdNamespace', 'GET', '/idnamespaces/{idNamespaceName}'),
  route('GetPolicy', 'GET', '/policies/{arn}'),
  route('GetProviderService', 'GET', '/providerservices/{providerName}/{providerServiceName}'),
  // Not emulated: everything else.
  route('AddPolicyStatement', 'POST', '/policies/{arn}/{statementId}'),
  route('BatchDeleteUniqueId', 'DELETE', '/matchingworkflows/{workflowName}/uniqueids'),
  route('CreateIdMappingWorkflow', 'POST', '/idmappingworkflows'),
  route('CreateIdNamespace', 'POST', '/idnamespaces'),
  route('CreateMatchingWorkflow', 'POST', '/matchingworkflows'),
  route('CreateSchemaMapping', 'POST', '/schemas'),
  route('DeleteIdMappingWorkflow', 'DELETE', '/idmappingworkflows/{workflowName}'),
  route('DeleteIdNamespace', 'DELETE', '/idnamespaces/{idNamespaceName}'),
  route('DeleteMatchingWorkflow', 'DELETE', '/matchingworkflows/{workflowName}'),
  route('DeletePolicyStatement', 'DELETE', '/policies/{arn}/{statementId}'),
  route('DeleteSchemaMapping', 'DELETE', '/schemas/{schemaName}'),
  route('GetMatchId', 'POST', '/matchingworkflows/{workflowName}/matches'),
  route('ListIdMappingWorkflows', 'GET', '/idmappingworkflows'),
  route('ListIdNamespaces', 'GET', '/idnamespaces'),
  route('ListProviderServices', 'GET', '/providerservices'),
  route('ListSchemaMappings', 'GET', '/schemas'),
  route('ListTagsForResource', 'GET', '/tags/{resourceArn}'),
  route('PutPolicy', 'PUT', '/policies/{arn}'),
  route('StartIdMappingJob', 'POST', '/idmappingworkflows/{workflowName}/jobs'),
  route('TagResource', 'POST', '/tags/{resourceArn}'),
  route('UntagResource', 'DELETE', '/tags/{resourceArn}'),
  route('UpdateIdMappingWorkflow', 'PUT', '/idmappingworkflows/{workflowName}'),
  route('UpdateIdNamespace', 'PUT', '/idnamespaces/{idNamespaceName}'),
  route('UpdateMatchingWorkflow', 'PUT', '/matchingworkflows/{workflowName}'),
  route('UpdateSchemaMapping', 'PUT', '/schemas/{schemaName}'),
];

const NOT_FOUND_READS = new Set(['GetIdMappingJob', 'ListIdMappingJobs', 'GetIdMappingWorkflow', 'GetIdNamespace', 'GetPolicy', 'GetProviderService']);

function findRoute(method: string, segments: string[]): { route: Route; params: string[] } | undefined {
  for (const r of ROUTES) {
    if (r.method !== method || r.segments.length !== segments.length) continue;
    const params: string[] = [];
    if (r.segments.every((s, i) => (s === '*' ? (params.push(segments[i]!), true) : s === segments[i]))) return { route: r, params };
  }
  return undefined;
}

function defaultLogger(): EmulatorLogger {
  // Powertools reads POWERTOOLS_LOG_LEVEL itself; without it the emulator only speaks up on trouble.
  const logger = new Logger({ serviceName: 'entity-resolution-emulator', ...(process.env.POWERTOOLS_LOG_LEVEL ? {} : { logLevel: 'WARN' as const }) });
  return {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
}

export async function startEntityResolutionEmulator(o: EntityResolutionEmulatorOptions): Promise<EntityResolutionEmulator> {
  const logger = o.logger ?? defaultLogger();
  const service = new EntityResolutionService({
    s3: o.s3,
    clock: o.clock,
    faults: o.faults,
    accountId: o.accountId,
    region: o.region,
    workflows: o.workflows,
    schemaMappings: o.schemaMappings,
    glueTables: o.glueTables,
    outputRowsPerFile: o.outputRowsPerFile ?? 10_000,
    logger,
  });
  const random = seededRandom(o.faults.seed);

  const handlers: Record<string, Handler> = {
    StartMatchingJob: ([workflowName]) => service.startMatchingJob(workflowName),
    GetMatchingJob: ([workflowName, jobId]) => service.getMatchingJob(workflowName, jobId),
    ListMatchingJobs: ([workflowName], q) =>
      service.listMatchingJobs(workflowName, queryInteger('maxResults', q.get('maxResults')), q.get('nextToken') ?? undefined),
    GetMatchingWorkflow: ([workflowName]) => service.getMatchingWorkflow(workflowName),
    ListMatchingWorkflows: (_, q) => service.listMatchingWorkflows(queryInteger('maxResults', q.get('maxResults')), q.get('nextToken') ?? undefined),
    GetSchemaMapping: ([schemaName]) => service.getSchemaMapping(schemaName),
  };

  const dispatch = async (req: IncomingMessage): Promise<unknown> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let segments: string[];
    try {
      segments = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
    } catch {
      throw new ServiceError('ValidationException', 'The request path is not correctly URL-encoded.');
    }
    const found = findRoute(req.method ?? 'GET', segments);
    if (!found) throw new ServiceError('UnknownOperationException', `No operation matches ${req.method} ${url.pathname}.`);
    const handler = handlers[found.route.operation];
    if (!handler) {
      if (NOT_FOUND_READS.has(found.route.operation)) {
        throw new ServiceError('ResourceNotFoundException', `The resource ${found.params.join('/')} does not exist.`);
      }
      throw new ServiceError('ValidationException', `${found.route.operation} is not supported by the local Entity Resolution emulator.`);
    }
    const draw = random();
    if (draw < o.faults.erThrottleRate) {
      service.faults.add('er.throttle');
      throw new ServiceError('ThrottlingException', 'Rate exceeded.');
    }
    if (draw < o.faults.erThrottleRate + o.faults.erInternalErrorRate) {
      service.faults.add('er.internal');
      throw new ServiceError('InternalServerException', 'An internal error occurred. Retry your request.');
    }
    return handler(found.params, url.searchParams);
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': randomUUID(),
      ...headers,
    });
    res.end(text);
  };

  const server = createServer((req, res) => {
    // Inputs of the emulated operations are all in the URI; the body is drained and ignored.
    req.resume();
    req.on('end', () => {
      dispatch(req).then(
        (body) => send(res, 200, body),
        (error: unknown) => {
          if (error instanceof ServiceError) {
            send(res, error.status, { message: error.message }, { 'X-Amzn-Errortype': error.code });
            return;
          }
          logger.error('request failed', { method: req.method, error: error instanceof Error ? error.message : String(error) });
          send(res, 500, { message: 'An internal error occurred.' }, { 'X-Amzn-Errortype': 'InternalServerException' });
        },
      );
    });
  });

  const endpoint = await listenOnLoopback(server, o.port);

  return {
    endpoint,
    faultCounts: () => service.faults.snapshot(),
    async stop() {
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      server.closeIdleConnections();
      await service.drain();
      server.closeAllConnections();
      await closed;
    },
  };
}
