/**
 * A child process for the crash tests: runs a relay and/or a consumer on one database and
 * reports on stdout, so the test can SIGKILL it at a precise moment and start it again.
 *   FIXTURE_DB, FIXTURE_TRANSPORT (embedded|kafka), FIXTURE_BROKERS, FIXTURE_RUN_ID,
 *   FIXTURE_RELAY=1, FIXTURE_CONSUMER=1, FIXTURE_GROUP, FIXTURE_PAUSE_AFTER_COMMIT=1, FIXTURE_BATCH
 */
import { createPool } from '../../db.ts';
import { createTestConsumer, createTestRelay, createTransport, Outbox, type TransportKind, testEvent } from './harness.ts';

const env = process.env;
const pool = createPool(env.FIXTURE_DB as string, { name: 'fixture' });
const transport = createTransport(env.FIXTURE_TRANSPORT as TransportKind, `fixture-${process.pid}`, env.FIXTURE_BROKERS?.split(','));
const outbox = new Outbox();
const event = testEvent(env.FIXTURE_RUN_ID as string);
const say = (line: string) => process.stdout.write(`${line}\n`);

if (env.FIXTURE_CONSUMER === '1') {
  const consumer = createTestConsumer({
    pool,
    transport,
    outbox,
    event,
    group: env.FIXTURE_GROUP ?? 'fixture',
    instance: `pid-${process.pid}`,
    hooks: {
      afterCommit: async (e) => {
        if (env.FIXTURE_PAUSE_AFTER_COMMIT !== '1') return;
        say(`committed ${e.id}`);
        await new Promise(() => {}); // never acknowledge: the test kills us here
      },
      onDuplicate: (e) => say(`duplicate ${e.id}`),
    },
  });
  const subscription = await consumer.start();
  await subscription.ready;
}
if (env.FIXTURE_RELAY === '1') {
  createTestRelay({ pool, transport, outbox, name: 'fixture', batchSize: Number(env.FIXTURE_BATCH ?? 100) }).start();
}
say('ready');
