/**
 * Building blocks of the messaging contract suite, shared by the test file and the child
 * process it kills (fixture-node.ts). Only test code imports this.
 */
import { Registry } from 'prom-client';
import { Type } from 'typebox';
import { migrate, type Pool } from '../../db.ts';
import { createLogger } from '../../log.ts';
import { EventConsumer, on } from '../consumer.ts';
import { EmbeddedTransport } from '../embedded-transport.ts';
import { defineEvent } from '../envelope.ts';
import { KafkaTransport } from '../kafka-transport.ts';
import { messagingMigrations, Outbox } from '../outbox.ts';
import { OutboxRelay } from '../relay.ts';
import type { Transport } from '../transport.ts';

export type TransportKind = 'embedded' | 'kafka';

export const log = createLogger({ name: 'messaging-test', level: process.env.TEST_LOG_LEVEL ?? 'warn' });

export const testEvent = (runId: string) =>
  defineEvent(`test${runId}.recorded`, 1, Type.Object({ n: Type.Integer({ minimum: 0 }), poison: Type.Optional(Type.Boolean()) }));
export type TestEvent = ReturnType<typeof testEvent>;

export async function prepareDatabase(pool: Pool): Promise<void> {
  await migrate(pool, [messagingMigrations]);
  await pool.query(`CREATE TABLE IF NOT EXISTS effects (
    arrival bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id uuid NOT NULL, aggregate text NOT NULL, n int NOT NULL, instance text NOT NULL)`);
}

export function createTransport(kind: TransportKind, clientId: string, brokers?: string[], metrics?: Registry): Transport {
  if (kind === 'embedded') return new EmbeddedTransport();
  if (!brokers) throw new Error('kafka transport needs brokers');
  return new KafkaTransport({ brokers, clientId, log, ...(metrics ? { metrics } : {}) });
}

export function createTestConsumer(opts: {
  pool: Pool;
  transport: Transport;
  outbox: Outbox;
  event: TestEvent;
  group: string;
  instance: string;
  maxAttempts?: number;
  metrics?: Registry;
  hooks?: ConstructorParameters<typeof EventConsumer>[0]['hooks'];
}): EventConsumer {
  return new EventConsumer({
    name: opts.group,
    pool: opts.pool,
    transport: opts.transport,
    outbox: opts.outbox,
    log,
    metrics: opts.metrics ?? new Registry(),
    maxAttempts: opts.maxAttempts ?? 3,
    backoffMs: 10,
    maxBackoffMs: 50,
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
    handlers: [
      on(opts.event, async (tx, e) => {
        if (e.payload.poison) throw new Error(`poison message n=${e.payload.n}`);
        await tx.query('INSERT INTO effects (message_id, aggregate, n, instance) VALUES ($1, $2, $3, $4)', [e.id, e.aggregateId, e.payload.n, opts.instance]);
      }),
    ],
  });
}

export function createTestRelay(opts: {
  pool: Pool;
  transport: Transport;
  outbox?: Outbox;
  name: string;
  batchSize?: number;
  metrics?: Registry;
}): OutboxRelay {
  return new OutboxRelay({ ...opts, log, pollIntervalMs: 50 });
}

export { Outbox };
