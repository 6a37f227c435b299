/**
 * The local DynamoDB: dynalite 4 in-process on loopback, in memory or persisted (LevelDB) in a
 * folder. Tables become ACTIVE at once instead of after dynalite's default 500 ms, so a run does
 * not wait on them. dynalite lacks transactions, TTL, PartiQL and
 * ReturnValuesOnConditionCheckFailure (see shared/reference/toolchain.md).
 */
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { listenOnLoopback } from './loopback.js';

export const DYNAMODB_REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface StartDynamoDBOptions {
  /** LevelDB folder; in memory when absent. */
  directory?: string;
  /** 0 or absent: any free port. */
  port?: number;
}

export interface LocalDynamoDB {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** A client for this server; `overrides` may add settings such as `maxAttempts`. */
  client(overrides?: Omit<DynamoDBClientConfig, 'endpoint' | 'credentials'>): DynamoDBClient;
  /** Closes the server (and the LevelDB store) and destroys the clients handed out. */
  stop(): Promise<void>;
}

/** Environment variables that point an SDK v3 DynamoDB client built with `{}` at this server. */
export function dynamoDBClientEnvironment(endpoint: string): Record<string, string> {
  return { AWS_ENDPOINT_URL_DYNAMODB: endpoint };
}

type Dynalite = (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;
const require = createRequire(import.meta.url);

export async function startDynamoDB(options: StartDynamoDBOptions = {}): Promise<LocalDynamoDB> {
  if (options.directory) await mkdir(options.directory, { recursive: true });
  const dynalite = require('dynalite') as Dynalite;
  const server = dynalite({ path: options.directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const endpoint = await listenOnLoopback(server, options.port);
  const clients: DynamoDBClient[] = [];

  return {
    endpoint,
    client(overrides = {}) {
      const c = new DynamoDBClient({ region: DYNAMODB_REGION, ...overrides, endpoint, credentials: CREDENTIALS });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients.splice(0)) c.destroy();
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      server.closeIdleConnections();
      await closed;
    },
  };
}
