/**
 * KAFKA_NAMESPACE: deployments sharing one Kafka cluster (a test run beside the benchmark) must not
 * consume each other's events, even with the same event types and consumer group names. Found the hard
 * way: two topologies on one broker split the "order" group's partitions and each lost the other's events.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { createLogger } from '../log.ts';
import { eventually, kafkaBrokers, skipUnless } from '../testing.ts';
import { KafkaTransport } from './kafka-transport.ts';
import type { InboundMessage } from './transport.ts';

const log = createLogger({ name: 'namespace-test', level: 'warn' });

describe('Kafka namespaces', () => {
  test('the same topic and group in two namespaces are separate: each sees only its own messages, under the plain topic name', async (t) => {
    const brokers = kafkaBrokers();
    if (!skipUnless(t, brokers, 'Kafka')) return;
    const run = randomBytes(4).toString('hex');
    const topic = `ns-test-${run}.happened`;
    const [a, b] = ['a', 'b'].map((ns) => new KafkaTransport({ brokers: brokers!, clientId: `ns-${ns}`, log, namespace: `ns_${ns}_${run}` }));
    const seen: Record<string, InboundMessage[]> = { a: [], b: [] };
    try {
      for (const [name, transport] of [
        ['a', a!],
        ['b', b!],
      ] as const) {
        await transport.ensureTopics([topic]);
        const sub = await transport.subscribe({ groupId: 'order', topics: [topic], handler: async (m) => void seen[name]!.push(m) });
        await sub.ready;
      }
      await a!.publish([{ topic, key: 'k1', value: 'for a', headers: {} }]);
      await b!.publish([{ topic, key: 'k1', value: 'for b', headers: {} }]);
      await eventually(() => seen.a!.length === 1 && seen.b!.length === 1, { what: 'each namespace to receive its message' });
      // Give a stray cross-delivery time to show up before asserting there was none.
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(
        seen.a!.map((m) => [m.topic, m.value]),
        [[topic, 'for a']],
      );
      assert.deepEqual(
        seen.b!.map((m) => [m.topic, m.value]),
        [[topic, 'for b']],
      );
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });
});
