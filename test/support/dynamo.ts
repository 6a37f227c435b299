/**
 * DynamoDB for unit tests: the local runtime's dynalite (real condition expressions, reserved
 * words, GSI queries — a mock would accept anything) and a fresh table per test with the stack's
 * key schema (contracts/table.ts TABLE_KEYS).
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from '../../contracts/table.js';
import { startDynamoDB } from '../../local/emulators/dynamodb.js';

export interface TestDynamo {
  endpoint: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** A new, empty table with the stack's keys and status index; returns its name. */
  newTable(): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestDynamo(): Promise<TestDynamo> {
  const server = await startDynamoDB();
  // maxAttempts 1: an error under test must surface, not be retried away by the SDK.
  const client = server.client({ maxAttempts: 1 });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const { partitionKey, sortKey, statusIndex } = TABLE_KEYS;
  let tables = 0;
  return {
    endpoint: server.endpoint,
    client,
    doc,
    async newTable() {
      const TableName = `chartflow-${++tables}`;
      // Tables of the local DynamoDB are ACTIVE as soon as CreateTable returns.
      await client.send(new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [partitionKey, sortKey, statusIndex.partitionKey, statusIndex.sortKey].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
        KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }, { AttributeName: sortKey, KeyType: 'RANGE' }],
        GlobalSecondaryIndexes: [{
          IndexName: statusIndex.name,
          KeySchema: [{ AttributeName: statusIndex.partitionKey, KeyType: 'HASH' }, { AttributeName: statusIndex.sortKey, KeyType: 'RANGE' }],
          Projection: { ProjectionType: 'ALL' },
        }],
      }));
      return TableName;
    },
    stop: () => server.stop(),
  };
}
