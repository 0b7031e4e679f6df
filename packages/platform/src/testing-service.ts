/**
 * A service's own test fixture: the real service over real HTTP, on a fresh database, with a real
 * token issuer and the embedded transport (so tests can deliver and observe events). Test code only.
 */

import { randomUUID } from 'node:crypto';
import type { VarSpec } from './config.ts';
import type { Pool } from './db.ts';
import { EmbeddedTransport } from './messaging/embedded-transport.ts';
import { createEnvelope, type Envelope, type EventDefinition, headers, type PayloadOf } from './messaging/envelope.ts';
import { type RunningService, type ServiceModule, startService } from './service.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';
import { startTestIdentity, type TestIdentity } from './testing-identity.ts';

export interface ServiceFixture {
  url: string;
  db: TestDatabase;
  pool: Pool;
  identity: TestIdentity;
  transport: EmbeddedTransport;
  service: RunningService;
  adminToken: string;
  customerToken: string;
  close(): Promise<void>;
}

/** The variables a service gets in tests; `env` adds or overrides. */
export const testServiceEnv = (db: TestDatabase, identity: TestIdentity, env: Record<string, string> = {}): Record<string, string> => ({
  DATABASE_URL: db.url,
  PORT: '0',
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
  IDENTITY_URL: identity.url,
  ...env,
});

export async function startServiceFixture<S extends Record<string, VarSpec<unknown>>>(
  module: ServiceModule<S>,
  label: string,
  env: Record<string, string> = {},
): Promise<ServiceFixture> {
  const db = await createTestDatabase(label);
  const identity = await startTestIdentity();
  const transport = new EmbeddedTransport();
  const service = await startService(module, { env: testServiceEnv(db, identity, env), transport });
  return {
    url: service.url,
    db,
    pool: db.pool,
    identity,
    transport,
    service,
    adminToken: await identity.token('admin-1', { roles: ['admin'] }),
    customerToken: await identity.token('reader-1', { roles: ['customer'] }),
    async close() {
      await service.close();
      await transport.close();
      await identity.close();
      await db.drop();
    },
  };
}

/** Delivers an event to the service's consumer as the broker would; resolves once it was handled. */
export async function deliver<D extends EventDefinition>(
  transport: EmbeddedTransport,
  def: D,
  aggregateId: string,
  payload: PayloadOf<D>,
  id: string = randomUUID(),
): Promise<Envelope<PayloadOf<D>>> {
  const envelope = createEnvelope(def, { aggregateId, payload, correlationId: 'service-test', id });
  await redeliver(transport, envelope);
  return envelope;
}

/** Delivers an event again, as an at-least-once broker may. */
export async function redeliver(transport: EmbeddedTransport, envelope: Envelope): Promise<void> {
  await transport.publish([
    {
      topic: envelope.type,
      key: envelope.aggregateId,
      value: JSON.stringify(envelope),
      headers: { [headers.messageId]: envelope.id, [headers.eventType]: envelope.type, [headers.correlationId]: envelope.correlationId },
    },
  ]);
}

/** A metric's value from a service's /metrics (0 when absent), summed over the series matching the labels. */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((w) => line.includes(w))) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}
