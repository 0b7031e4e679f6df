/**
 * The messaging contract: the same suite against the embedded transport and a real Kafka broker.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { createPool, withTransaction } from '../db.ts';
import { startService } from '../service.ts';
import { notesService } from '../testing/notes-service.ts';
import { brokerNotRestartable, createTestDatabase, eventually, kafkaBrokers, requireInfra, restartBroker, type TestDatabase } from '../testing.ts';
import { deadLetterTopicOf, headers, topicOf } from './envelope.ts';
import { createTestConsumer, createTestRelay, createTransport, Outbox, prepareDatabase, type TestEvent, testEvent } from './testing/harness.ts';
import type { InboundMessage, Transport } from './transport.ts';

const brokers = kafkaBrokers();
const fixture = fileURLToPath(new URL('./testing/fixture-node.ts', import.meta.url));

if (!brokers && requireInfra) {
  test('Kafka is required (FOLIO_REQUIRE_INFRA=1)', () => assert.fail('no Kafka broker was found; start it with `npm run infra:up`'));
}

for (const kind of ['embedded', 'kafka'] as const) {
  describe(`messaging contract on the ${kind} transport`, { skip: kind === 'kafka' && !brokers ? 'no Kafka broker (npm run infra:up)' : false }, () => {
    let db: TestDatabase;
    const cleanups: Array<() => Promise<unknown>> = [];
    const newRun = () => randomBytes(4).toString('hex');
    const transportFor = (name: string, metrics?: Registry): Transport => {
      const t = createTransport(kind, `contract-${name}`, brokers, metrics);
      cleanups.push(() => t.close());
      return t;
    };

    before(async () => {
      db = await createTestDatabase(`messaging_${kind}`);
      await prepareDatabase(db.pool);
    });
    // Every test stops what it started: a relay left running would drain the next test's outbox.
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    });
    after(() => db.drop());

    async function resetTables() {
      await db.pool.query('TRUNCATE effects, inbox, outbox');
    }

    async function publish(outbox: Outbox, event: TestEvent, aggregateId: string, n: number, poison = false) {
      await withTransaction(db.pool, (tx) => outbox.publish(tx, event, { aggregateId, payload: poison ? { n, poison } : { n } }));
    }

    async function effects(): Promise<{ message_id: string; aggregate: string; n: number; instance: string }[]> {
      const { rows } = await db.pool.query('SELECT message_id, aggregate, n, instance FROM effects ORDER BY arrival');
      return rows;
    }

    function assertPerAggregateOrder(rows: { aggregate: string; n: number }[], perAggregate: number) {
      const byAggregate = new Map<string, number[]>();
      for (const r of rows) byAggregate.set(r.aggregate, [...(byAggregate.get(r.aggregate) ?? []), r.n]);
      for (const [aggregate, ns] of byAggregate) {
        assert.deepEqual(
          ns,
          Array.from({ length: perAggregate }, (_, i) => i),
          `events of ${aggregate} arrived out of order or incomplete`,
        );
      }
    }

    /** A relay and a consumer wired like a service: one outbox, one transport. */
    async function startNode(run: string, opts: { group?: string; instance?: string; maxAttempts?: number; transport?: Transport } = {}) {
      const event = testEvent(run);
      const transport = opts.transport ?? transportFor(run);
      const outbox = new Outbox();
      const consumer = createTestConsumer({
        pool: db.pool,
        transport,
        outbox,
        event,
        group: opts.group ?? `g${run}`,
        instance: opts.instance ?? 'a',
        ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
      });
      const subscription = await consumer.start();
      await subscription.ready;
      const relay = createTestRelay({ pool: db.pool, transport, outbox, name: 'main' });
      relay.start();
      cleanups.push(
        () => relay.stop(),
        () => consumer.close(),
      );
      return { event, transport, outbox, consumer, relay };
    }

    test('an event is published if and only if its transaction commits', async () => {
      await resetTables();
      const { event, outbox } = await startNode(newRun());
      await publish(outbox, event, 'order-1', 0);
      await assert.rejects(
        withTransaction(db.pool, async (tx) => {
          await outbox.publish(tx, event, { aggregateId: 'order-1', payload: { n: 99 } });
          throw new Error('business rule failed after the event was written');
        }),
        /business rule failed/,
      );
      await publish(outbox, event, 'order-1', 1);
      // Same key, so n=99 would have arrived before n=1 had it been published.
      const rows = await eventually(async () => {
        const r = await effects();
        return r.length >= 2 && r;
      });
      assert.deepEqual(
        rows.map((r) => r.n),
        [0, 1],
      );
      assert.equal((await db.pool.query('SELECT count(*)::int AS c FROM outbox')).rows[0].c, 0, 'the outbox is emptied once published');
    });

    test('an invalid event is refused at publish time and nothing is written', async () => {
      const run = newRun();
      const event = testEvent(run);
      const outbox = new Outbox();
      await assert.rejects(
        withTransaction(db.pool, (tx) => outbox.publish(tx, event, { aggregateId: 'x', payload: { n: -1 } })),
        /payload is invalid: \/n must be >= 0/,
      );
    });

    test('a consumer killed before acknowledging gets the message again, and the inbox stops a second effect', async () => {
      await resetTables();
      const run = newRun();
      const event = testEvent(run);
      const outbox = new Outbox();
      const base = {
        FIXTURE_DB: db.url,
        FIXTURE_TRANSPORT: kind,
        FIXTURE_BROKERS: brokers?.join(',') ?? '',
        FIXTURE_RUN_ID: run,
        FIXTURE_GROUP: `g${run}`,
        FIXTURE_CONSUMER: '1',
        FIXTURE_RELAY: '1',
      };

      const first = startFixture({ ...base, FIXTURE_PAUSE_AFTER_COMMIT: '1' });
      await first.waitFor('ready');
      await publish(outbox, event, 'order-7', 0);
      const committed = await first.waitFor(/^committed (.+)$/);
      first.child.kill('SIGKILL');
      await first.exited;
      assert.equal((await effects()).length, 1, 'the effect committed before the crash');

      const second = startFixture(base);
      const duplicate = await second.waitFor(/^duplicate (.+)$/, 60_000);
      assert.equal(duplicate[1], committed[1], 'the same message was delivered again');
      assert.equal((await effects()).length, 1, 'and applied only once');
      second.child.kill('SIGTERM');
      await second.exited;
    });

    test('1,000 events over 10 aggregates arrive in per-aggregate order with two consumer instances in one group', async () => {
      await resetTables();
      const run = newRun();
      const group = `g${run}`;
      const a = await startNode(run, { group, instance: 'a' });
      // Embedded members of a group share the process's one bus; on Kafka each has its own client.
      await startNode(run, { group, instance: 'b', ...(kind === 'embedded' ? { transport: a.transport } : {}) });
      for (let batch = 0; batch < 20; batch++) {
        await withTransaction(db.pool, async (tx) => {
          for (let i = 0; i < 50; i++) {
            const k = batch * 50 + i;
            await a.outbox.publish(tx, a.event, { aggregateId: `agg-${k % 10}`, payload: { n: Math.floor(k / 10) } });
          }
        });
      }
      const rows = await eventually(
        async () => {
          const r = await effects();
          return r.length >= 1000 && r;
        },
        { timeoutMs: 60_000, what: '1000 effects' },
      );
      assert.equal(rows.length, 1000);
      assert.equal(new Set(rows.map((r) => r.message_id)).size, 1000);
      assertPerAggregateOrder(rows, 100);
      const instances = new Set(rows.map((r) => r.instance));
      assert.deepEqual([...instances].sort(), ['a', 'b'], 'both instances of the group took part');
    });

    test('a poison message lands in the dead-letter topic after the configured tries and later messages still flow', async () => {
      await resetTables();
      const run = newRun();
      const transport = transportFor(run);
      const { event, outbox } = await startNode(run, { maxAttempts: 3, transport });
      const dead: InboundMessage[] = [];
      const dlq = deadLetterTopicOf(topicOf(event));
      await transport.ensureTopics([dlq]);
      const watcher = await transport.subscribe({ groupId: `dlq-watch-${run}`, topics: [dlq], handler: async (m) => void dead.push(m) });
      await watcher.ready;
      cleanups.push(() => watcher.close());

      await publish(outbox, event, 'order-9', 0);
      await publish(outbox, event, 'order-9', 1, true);
      await publish(outbox, event, 'order-9', 2);
      // A message that is not even JSON, straight onto the topic.
      await transport.publish([{ topic: topicOf(event), key: 'order-9', value: '{not json', headers: {} }]);
      await publish(outbox, event, 'order-9', 3);

      const rows = await eventually(async () => {
        const r = await effects();
        return r.length >= 3 && r;
      });
      assert.deepEqual(
        rows.map((r) => r.n),
        [0, 2, 3],
      );
      await eventually(() => dead.length >= 2, { what: 'two dead letters' });
      const poison = dead.find((m) => m.value.startsWith('{"'));
      const garbage = dead.find((m) => m.value === '{not json');
      assert.ok(poison && garbage, 'both the poison message and the unreadable one were dead-lettered');
      assert.equal(JSON.parse(poison!.value).payload.n, 1);
      assert.equal(poison!.headers[headers.dlqAttempts], '3');
      assert.match(poison!.headers[headers.dlqReason]!, /poison message n=1/);
      assert.equal(poison!.headers[headers.originalTopic], topicOf(event));
      assert.match(garbage!.headers[headers.dlqReason]!, /not JSON/);
    });

    test('two relay instances together publish every outbox row, and no consumer applies one twice', async () => {
      await resetTables();
      const run = newRun();
      const event = testEvent(run);
      const transport = transportFor(run);
      const outbox = new Outbox();
      const consumer = createTestConsumer({ pool: db.pool, transport, outbox, event, group: `g${run}`, instance: 'a' });
      await (await consumer.start()).ready;
      cleanups.push(() => consumer.close());
      const secondPool = createPool(db.url, { name: 'relay-2' });
      cleanups.push(() => secondPool.end());
      const registries = [new Registry(), new Registry()];
      // A broker takes a few milliseconds per batch, as a real one does: while one relay holds its batch,
      // the other claims the next rows (of other aggregates) instead of finding the outbox drained.
      const slowBroker: Transport = Object.create(transport, {
        publish: {
          value: async (messages: Parameters<Transport['publish']>[0]) => {
            await new Promise((r) => setTimeout(r, 5));
            return transport.publish(messages);
          },
        },
      });
      const relays = [
        createTestRelay({ pool: db.pool, transport: slowBroker, name: 'r1', batchSize: 40, metrics: registries[0]! }),
        createTestRelay({ pool: secondPool, transport: slowBroker, name: 'r2', batchSize: 40, metrics: registries[1]! }),
      ];
      for (const r of relays) r.start();
      cleanups.push(...relays.map((r) => () => r.stop()));

      // Four writers publishing while both relays run: 200 aggregates, each written as 10 events in one transaction.
      await Promise.all(
        [0, 1, 2, 3].map(async (w) => {
          for (let a = w; a < 200; a += 4) {
            await withTransaction(db.pool, async (tx) => {
              for (let n = 0; n < 10; n++) await outbox.publish(tx, event, { aggregateId: `agg-${a}`, payload: { n } });
            });
          }
        }),
      );
      const rows = await eventually(
        async () => {
          const r = await effects();
          return r.length >= 2000 && r;
        },
        { timeoutMs: 90_000, what: '2000 effects' },
      );
      await new Promise((r) => setTimeout(r, 300)); // a late duplicate would show up here
      const all = await effects();
      assert.equal(all.length, 2000, 'every row applied exactly once');
      assert.equal(new Set(rows.map((r) => r.message_id)).size, 2000);
      assertPerAggregateOrder(all, 10);
      const published = await Promise.all(
        registries.map(async (reg) => (await reg.getSingleMetric('folio_outbox_published_total')!.get()).values.reduce((s, v) => s + v.value, 0)),
      );
      assert.equal(published[0]! + published[1]!, 2000);
      assert.ok(published[0]! > 0 && published[1]! > 0, `both relays published (${published.join(' / ')})`);
    });

    test('a relay process killed with SIGKILL mid-batch loses no event once restarted', async () => {
      await resetTables();
      const run = newRun();
      const event = testEvent(run);
      const outbox = new Outbox();
      // On Kafka the consumer lives here and the relay in the child; embedded, both are in the child (one process).
      const fixtureEnv = {
        FIXTURE_DB: db.url,
        FIXTURE_TRANSPORT: kind,
        FIXTURE_BROKERS: brokers?.join(',') ?? '',
        FIXTURE_RUN_ID: run,
        FIXTURE_GROUP: `g${run}`,
        FIXTURE_RELAY: '1',
        FIXTURE_BATCH: '50',
        FIXTURE_CONSUMER: kind === 'embedded' ? '1' : '0',
      };
      if (kind === 'kafka') {
        const transport = transportFor(run);
        const consumer = createTestConsumer({ pool: db.pool, transport, outbox, event, group: `g${run}`, instance: 'parent' });
        await (await consumer.start()).ready;
        cleanups.push(() => consumer.close());
      }
      for (let batch = 0; batch < 30; batch++) {
        await withTransaction(db.pool, async (tx) => {
          for (let i = 0; i < 100; i++) await outbox.publish(tx, event, { aggregateId: `agg-${i % 10}`, payload: { n: batch * 10 + Math.floor(i / 10) } });
        });
      }
      const first = startFixture(fixtureEnv);
      await eventually(async () => (await effects()).length >= 300, { timeoutMs: 60_000, what: 'the relay to get going' });
      first.child.kill('SIGKILL');
      await first.exited;
      const atKill = (await effects()).length;
      assert.ok(atKill < 3000, 'killed before it finished');

      const second = startFixture(fixtureEnv);
      const rows = await eventually(
        async () => {
          const r = await effects();
          return r.length >= 3000 && r;
        },
        { timeoutMs: 90_000, what: 'all 3000 events after the restart' },
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await effects()).length, 3000, 'nothing applied twice');
      assert.equal(new Set(rows.map((r) => r.message_id)).size, 3000, 'nothing lost');
      assertPerAggregateOrder(rows, 300);
      second.child.kill('SIGTERM');
      await second.exited;
    });

    for (const outage of [
      { what: 'restarted', downForMs: 0 },
      { what: 'down for a minute', downForMs: 60_000 },
    ]) {
      test(`the broker ${outage.what} in the middle of a stream: every message sent before, during and after is handled exactly once by every group`, {
        skip: kind === 'embedded' ? 'the in-process bus has no broker to restart' : brokerNotRestartable(),
        timeout: 300_000,
      }, async () => {
        await resetTables();
        const run = newRun();
        const registries = { a: new Registry(), b: new Registry() };
        // Two groups, as two services would be, each with a client of its own; both relay the one outbox.
        const nodes = {
          a: await startNode(run, { group: `a${run}`, instance: 'a', transport: transportFor(run, registries.a) }),
          b: await startNode(run, { group: `b${run}`, instance: 'b', transport: transportFor(run, registries.b) }),
        };
        let written = 0;
        let writing = true;
        const writer = (async () => {
          // Stops on a multiple of ten, so every aggregate gets the same count.
          while (writing || written % 10 !== 0) {
            await publish(nodes.a.outbox, nodes.a.event, `agg-${written % 10}`, Math.floor(written / 10));
            written++;
            await new Promise((r) => setTimeout(r, 20));
          }
        })();
        const writtenBy = (n: number) => eventually(() => written >= n, { what: `${n} events written` });
        await writtenBy(50);
        let duringOutage = 0;
        let startedWhileDown: (() => Promise<void>) | undefined;
        await restartBroker({
          downForMs: outage.downForMs,
          whileDown: async () => {
            const at = written;
            await Promise.all(
              Object.values(nodes).map((node) =>
                eventually(
                  () =>
                    node.transport.check().then(
                      () => false,
                      (err: Error) => err.message,
                    ),
                  {
                    timeoutMs: 60_000,
                    what: 'readiness to say the consumer is not consuming',
                  },
                ),
              ),
            );
            await writtenBy(at + 50);
            duringOutage = written - at;
            if (outage.downForMs > 0) startedWhileDown = await startsWithoutBroker(run);
          },
        });
        const restartedAt = written;
        await writtenBy(restartedAt + 50);
        writing = false;
        await writer;

        await Promise.all(
          Object.values(nodes).map((node) => eventually(() => node.transport.check().then(() => true), { timeoutMs: 90_000, what: 'ready again' })),
        );
        await startedWhileDown?.();
        const rows = await eventually(
          async () => {
            const r = await effects();
            return r.length >= 2 * written && r;
          },
          { timeoutMs: 120_000, what: `${2 * written} effects (${written} events for each group)` },
        );
        await new Promise((r) => setTimeout(r, 500)); // a late duplicate would show up here
        const all = await effects();
        assert.ok(duringOutage >= 50, 'events were written while the broker was down');
        assert.equal(all.length, 2 * written, 'every event applied once per group: none lost, none twice');
        for (const instance of ['a', 'b']) {
          const mine = rows.filter((r) => r.instance === instance);
          assert.equal(new Set(mine.map((r) => r.message_id)).size, written, `group ${instance} applied every event`);
          assertPerAggregateOrder(mine, written / 10);
        }
        for (const registry of Object.values(registries)) {
          const metrics = await registry.metrics();
          assert.match(metrics, /folio_consumer_reconnects_total\{[^}]*\} [1-9]/, 'the reconnect is counted');
          assert.match(metrics, /folio_consumer_up\{[^}]*\} 1/, 'and the consumer is up again');
        }
      });
    }

    /** A service started while the broker is down serves what it can, and is ready once the broker is back. */
    async function startsWithoutBroker(run: string): Promise<() => Promise<void>> {
      const service = await startService(notesService(`notes${run}`), {
        env: { LOG_LEVEL: 'fatal', DATABASE_URL: db.url, KAFKA_BROKERS: brokers!.join(',') },
      });
      cleanups.push(() => service.close());
      const created = await fetch(`${service.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"while down"}' });
      assert.equal(created.status, 201, 'it takes a change while the broker is down');
      const ready = await fetch(`${service.url}/ready`);
      assert.equal(ready.status, 503);
      assert.match(JSON.stringify(await ready.json()), /not consuming|cannot publish/);
      const { id } = (await created.json()) as { id: string };
      // What must hold once the broker is back.
      return async () => {
        await eventually(async () => (await fetch(`${service.url}/ready`)).ok, { timeoutMs: 90_000, what: 'the service to become ready' });
        await eventually(async () => ((await (await fetch(`${service.url}/notes/${id}`)).json()) as { seen: boolean }).seen, {
          timeoutMs: 60_000,
          what: 'its event, kept in its outbox, to be consumed',
        });
      };
    }
  });
}

function startFixture(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [fixture], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    child,
    exited,
    async waitFor(pattern: string | RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
      const re = typeof pattern === 'string' ? new RegExp(`^${pattern}$`) : pattern;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const l of lines) {
          const m = l.match(re);
          if (m) return m;
        }
        if (Date.now() > deadline) throw new Error(`fixture never printed ${re}; it printed: ${lines.join(' | ')}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}
