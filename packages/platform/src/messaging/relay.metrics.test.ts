/** The outbox lag an operator alerts on: the age of the oldest pending row, read when /metrics is scraped. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import { migrate } from '../db.ts';
import { createLogger } from '../log.ts';
import { createTestDatabase, type TestDatabase } from '../testing.ts';
import { EmbeddedTransport } from './embedded-transport.ts';
import { messagingMigrations } from './outbox.ts';
import { OutboxRelay } from './relay.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('relay_metrics');
  await migrate(db.pool, [messagingMigrations]);
});
after(async () => {
  await db?.drop();
});

const lagOf = async (metrics: Registry) => {
  const metric = await metrics.getSingleMetric('folio_outbox_oldest_pending_seconds')?.get();
  return metric?.values.find((v) => v.labels.relay === 'test')?.value;
};

test('folio_outbox_oldest_pending_seconds is the age of the oldest pending row, and 0 when none is pending', async () => {
  const metrics = new Registry();
  const transport = new EmbeddedTransport();
  new OutboxRelay({ name: 'test', pool: db.pool, transport, log: createLogger({ name: 'test', level: 'error' }), metrics });
  assert.equal(await lagOf(metrics), 0);
  await db.pool.query(`INSERT INTO outbox (id, topic, key, value, created_at) VALUES ($1, 't', 'k', '{}', now() - interval '42 seconds')`, [randomUUID()]);
  const lag = await lagOf(metrics);
  assert.ok(lag !== undefined && lag >= 42 && lag < 60, `lag ${lag}`);
  await transport.close();
});
