/**
 * The local Step Functions over HTTP: AWS's awsJson1_0 protocol (`POST /`,
 * `X-Amz-Target: AWSStepFunctions.<Operation>`, camelCase members, timestamps as epoch seconds,
 * errors as `{"__type": "<Code>", "message": ...}`), so that an unmodified `@aws-sdk/client-sfn`
 * or the AWS CLI can start, follow, stop and redrive executions.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ExecutionStatus } from '@aws-sdk/client-sfn';
import { LocalStepFunctions, StepFunctionsError } from './engine.js';
import { listenOnLoopback } from '../emulators/loopback.js';

export interface StartEndpointOptions {
  /** 0 or absent: any free port. */
  port?: number;
}

export interface StepFunctionsEndpoint {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  stop(): Promise<void>;
}

type Body = Record<string, unknown>;
type Operation = (sfn: LocalStepFunctions, body: Body) => Promise<unknown> | unknown;

/** A required string member; a missing one becomes '' and fails the engine's own validation. */
const str = (body: Body, key: string): string => (typeof body[key] === 'string' ? (body[key] as string) : '');
const optStr = (body: Body, key: string): string | undefined => (typeof body[key] === 'string' ? (body[key] as string) : undefined);
const optNum = (body: Body, key: string): number | undefined => (typeof body[key] === 'number' ? (body[key] as number) : undefined);

const OPERATIONS: Record<string, Operation> = {
  StartExecution: (sfn, b) => sfn.startExecution({ stateMachineArn: str(b, 'stateMachineArn'), name: optStr(b, 'name'), input: optStr(b, 'input') }),
  DescribeExecution: (sfn, b) => sfn.describeExecution(str(b, 'executionArn')),
  ListExecutions: (sfn, b) =>
    sfn.listExecutions({
      stateMachineArn: str(b, 'stateMachineArn'),
      statusFilter: optStr(b, 'statusFilter') as ExecutionStatus | undefined,
      maxResults: optNum(b, 'maxResults'),
      nextToken: optStr(b, 'nextToken'),
    }),
  GetExecutionHistory: (sfn, b) =>
    sfn.getExecutionHistory({
      executionArn: str(b, 'executionArn'),
      maxResults: optNum(b, 'maxResults'),
      nextToken: optStr(b, 'nextToken'),
      reverseOrder: b.reverseOrder === true,
      includeExecutionData: b.includeExecutionData !== false,
    }),
  RedriveExecution: (sfn, b) => sfn.redriveExecution(str(b, 'executionArn')),
  StopExecution: (sfn, b) => sfn.stopExecution(str(b, 'executionArn'), { error: optStr(b, 'error'), cause: optStr(b, 'cause') }),
  ListStateMachines: (sfn, b) => sfn.listStateMachines({ maxResults: optNum(b, 'maxResults'), nextToken: optStr(b, 'nextToken') }),
  DescribeStateMachine: (sfn, b) => sfn.describeStateMachine(str(b, 'stateMachineArn')),
};

/** Dates become epoch seconds, as awsJson timestamps travel (Dates from any realm). */
function toWire(value: unknown): unknown {
  if (value instanceof Date || Object.prototype.toString.call(value) === '[object Date]') return (value as Date).getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toWire(v)]));
  }
  return value;
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(body);
}

const sendError = (res: ServerResponse, status: number, type: string, message: string) => send(res, status, { __type: type, message });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(sfn: LocalStepFunctions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req);
  if (req.method !== 'POST') return sendError(res, 405, 'UnknownOperationException', 'Only POST / is supported');
  const target = String(req.headers['x-amz-target'] ?? '');
  const [service, operationName] = target.split('.');
  const operation = service === 'AWSStepFunctions' && operationName ? OPERATIONS[operationName] : undefined;
  if (!operation) return sendError(res, 400, 'UnknownOperationException', `Unsupported operation: "${target}"`);
  let body: unknown;
  try {
    body = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    return sendError(res, 400, 'SerializationException', 'The request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return sendError(res, 400, 'SerializationException', 'The request body must be a JSON object');
  }
  try {
    send(res, 200, toWire(await operation(sfn, body as Body)));
  } catch (error) {
    if (error instanceof StepFunctionsError) return sendError(res, 400, error.code, error.message);
    sendError(res, 500, 'InternalFailure', error instanceof Error ? error.message : 'Internal failure');
  }
}

/** Serves `sfn` on 127.0.0.1 until `stop()`. */
export async function startStepFunctionsEndpoint(sfn: LocalStepFunctions, options: StartEndpointOptions = {}): Promise<StepFunctionsEndpoint> {
  const server = createServer((req, res) => {
    handle(sfn, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalFailure', error instanceof Error ? error.message : 'Internal failure');
      else res.destroy();
    });
  });
  const endpoint = await listenOnLoopback(server, options.port);
  return {
    endpoint,
    async stop() {
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      server.closeIdleConnections();
      await closed;
    },
  };
}
