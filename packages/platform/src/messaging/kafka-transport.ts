import { Admin, Consumer, type Message, ProduceAcks, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type Logger, summarizeError } from '../log.ts';
import type { InboundMessage, MessageHandler, OutboundMessage, SubscribeOptions, Subscription, Transport } from './transport.ts';

export interface KafkaTransportOptions {
  brokers: string[];
  /** Names this process in the broker's logs and client quotas, e.g. "folio-order". */
  clientId: string;
  log: Logger;
  /** Partitions of the topics this transport creates. */
  partitions?: number;
  /** Messages buffered per subscription before fetching pauses. */
  maxBuffered?: number;
  /**
   * Prefix of every topic and consumer group ("<namespace>.order.paid", group "<namespace>.order"), so
   * deployments that share one cluster (staging beside production, test runs beside a benchmark) never
   * consume each other's events. Empty: the plain names.
   */
  namespace?: string;
  /**
   * Kafka static membership (group.instance.id): the broker knows this instance by this name across
   * restarts, so one that crashed and comes back gets its partitions again at once, with no rebalance
   * and no wait for its old session to time out. It must be unique among running instances (the
   * broker fences the older of two that share it). Unset: a new member each time.
   */
  instanceId?: string;
  /** folio_consumer_up{group} and folio_consumer_reconnects_total{group}. */
  metrics?: Registry;
}

type StringMessage = Message<string, string, string, string>;

/**
 * Kafka through @platformatic/kafka. The producer is idempotent with acks=all, so a relay retry
 * cannot reorder or duplicate within a partition; keys are aggregate ids, so one aggregate's
 * events share a partition. Consumers commit an offset only after the handler resolved.
 */
export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  readonly #opts: Required<Omit<KafkaTransportOptions, 'metrics' | 'instanceId'>> & Pick<KafkaTransportOptions, 'instanceId'>;
  readonly #metrics: ConsumerMetrics | undefined;
  readonly #subscriptions = new Set<KafkaSubscription>();
  readonly #knownTopics = new Set<string>();
  #producer: Producer<string, string, string, string> | undefined;
  #admin: Admin | undefined;

  constructor(opts: KafkaTransportOptions) {
    const { metrics, ...rest } = opts;
    this.#opts = { partitions: 6, maxBuffered: 1000, namespace: '', ...rest };
    this.#metrics = metrics && consumerMetrics(metrics);
  }

  /** The broker's name of a topic (or group): the event type inside the namespace. */
  #named(name: string): string {
    return this.#opts.namespace ? `${this.#opts.namespace}.${name}` : name;
  }

  get #base() {
    return { clientId: this.#opts.clientId, bootstrapBrokers: this.#opts.brokers, timeout: 5_000, retries: 3, retryDelay: 250 };
  }

  #adminClient(): Admin {
    this.#admin ??= new Admin(this.#base);
    return this.#admin;
  }

  async publish(messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.#producer ??= new Producer({ ...this.#base, serializers: stringSerializers, idempotent: true, acks: ProduceAcks.ALL, autocreateTopics: true });
    const producer = this.#producer;
    try {
      await producer.send({
        messages: messages.map((m) => ({ topic: this.#named(m.topic), key: m.key, value: m.value, headers: new Map(Object.entries(m.headers)) })),
      });
    } catch (err) {
      // A producer that failed (broker restarted, connection lost, sequence out of step) is replaced, not
      // trusted again: the relay retries the batch with a fresh one, and the inbox absorbs what was written twice.
      if (this.#producer === producer) this.#producer = undefined;
      producer.close(true).catch(() => {});
      throw err;
    }
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const missing = topics.filter((t) => !this.#knownTopics.has(t));
    if (missing.length === 0) return;
    const admin = this.#adminClient();
    const existing = new Set(await admin.listTopics());
    let toCreate = missing.map((t) => this.#named(t)).filter((t) => !existing.has(t));
    for (let attempt = 1; toCreate.length > 0; attempt++) {
      try {
        await admin.createTopics({ topics: toCreate, partitions: this.#opts.partitions, replicas: 1 });
        break;
      } catch (err) {
        // Services starting together create the same topics at once: the losers' requests fail with
        // "already exists" for some of them, and the winners' topics may take a moment to be listed.
        // Whatever is still missing after a few rounds is a real failure.
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        const after = new Set(await admin.listTopics());
        toCreate = toCreate.filter((t) => !after.has(t));
        if (toCreate.length > 0 && attempt >= 5) throw err;
      }
    }
    await this.#untilKnown(missing.map((t) => this.#named(t)));
    for (const t of missing) this.#knownTopics.add(t);
  }

  /** A topic just created is not yet in every broker's metadata: consuming it at once fails with "Unknown topic". */
  async #untilKnown(topics: string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const metadata = await this.#adminClient().metadata({ topics });
        const ready = topics.every((t) => {
          const partitions = metadata.topics.get(t)?.partitions;
          return partitions !== undefined && Object.values(partitions).every((p) => p.leader >= 0);
        });
        if (ready) return;
      } catch (err) {
        if (attempt >= 50) throw err;
      }
      if (attempt >= 50) throw new Error(`topics ${topics.join(', ')} have no leader after ${attempt} tries`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Fails fast, without asking the broker, when a subscription is down: that is what an operator needs to see. */
  async check(): Promise<void> {
    for (const s of this.#subscriptions) {
      if (s.notConsuming) throw new Error(`consumer group ${s.group} is not consuming: ${s.notConsuming}`);
    }
    await this.#adminClient().metadata({ topics: [] });
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    const group = this.#named(opts.groupId);
    const topics = opts.topics.map((t) => this.#named(t));
    const groupInstanceId = this.#instanceIdIn(group);
    const subscription = new KafkaSubscription({
      group,
      topics,
      handler: opts.handler,
      log: this.#opts.log.child({ consumerGroup: group }),
      maxBuffered: this.#opts.maxBuffered,
      prefix: this.#opts.namespace ? `${this.#opts.namespace}.` : '',
      metrics: this.#metrics,
      // Topics are created on every connection, not once: a broker that lost its data comes back without them.
      prepare: async () => {
        this.#knownTopics.clear();
        await this.ensureTopics([...opts.topics, ...(opts.alsoCreate ?? [])]);
      },
      newConsumer: () =>
        new Consumer({
          ...this.#base,
          clientId: `${this.#opts.clientId}-${opts.groupId}`,
          groupId: group,
          ...(groupInstanceId ? { groupInstanceId } : {}),
          deserializers: stringDeserializers,
          autocommit: false,
          sessionTimeout: 10_000,
          heartbeatInterval: 1_000,
          rebalanceTimeout: 20_000,
          // The broker answers a fetch as soon as a message arrives; this only bounds how often an idle consumer asks.
          maxWaitTime: 500,
          highWaterMark: this.#opts.maxBuffered,
        }),
    });
    this.#subscriptions.add(subscription);
    subscription.closed.then(() => this.#subscriptions.delete(subscription));
    subscription.start();
    return subscription;
  }

  /** This instance's name in a group; a second subscription to the same group in this process is another member. */
  #instanceIdIn(group: string): string | undefined {
    const { instanceId } = this.#opts;
    if (!instanceId) return undefined;
    const same = [...this.#subscriptions].filter((s) => s.group === group).length;
    return same === 0 ? instanceId : `${instanceId}.${same + 1}`;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    await this.#producer?.close();
    await this.#admin?.close();
  }
}

interface ConsumerMetrics {
  up: Gauge<'group'>;
  reconnects: Counter<'group'>;
}

function consumerMetrics(registry: Registry): ConsumerMetrics {
  return {
    up: new Gauge({
      name: 'folio_consumer_up',
      help: '1 while the consumer group member consumes; 0 while it is connecting or reconnecting to the broker',
      labelNames: ['group'],
      registers: [registry],
    }),
    reconnects: new Counter({
      name: 'folio_consumer_reconnects_total',
      help: 'Times a consumer lost its broker connection or group membership and started over from its committed offsets',
      labelNames: ['group'],
      registers: [registry],
    }),
  };
}

type StringConsumer = Consumer<string, string, string, string>;
type StringStream = Awaited<ReturnType<StringConsumer['consume']>>;

interface SubscriptionParts {
  group: string;
  topics: string[];
  handler: MessageHandler;
  log: Logger;
  maxBuffered: number;
  /** Stripped from the broker's topic names: handlers see event types. */
  prefix: string;
  metrics: ConsumerMetrics | undefined;
  /** Runs before each connection: creates the topics. */
  prepare: () => Promise<void>;
  newConsumer: () => StringConsumer;
}

/** Backoff between connections: 0.5 s doubling to 30 s, with jitter so a fleet does not reconnect in step. */
const reconnectDelayMs = (failures: number): number => Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 6)) * (0.75 + Math.random() / 2);
/** A member that consumed this long before it failed starts the backoff over. */
const STABLE_MS = 60_000;
/** Leaving a group politely may hang on a dead broker; past this the old client is dropped. */
const TEARDOWN_TIMEOUT_MS = 5_000;

/**
 * A consumer group subscription that outlives its broker connections. Each connection is one
 * GroupMember; when it fails — fetch errors, a coordinator change, a failed rejoin, a broker restart —
 * its in-flight messages finish, the rest of its buffer is dropped unacknowledged, and a new member
 * joins after a backoff and resumes from the committed offsets (the inbox makes the redeliveries
 * harmless). It retries forever, until closed.
 */
class KafkaSubscription implements Subscription {
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;
  readonly group: string;
  readonly #parts: SubscriptionParts;
  #notConsuming: string | undefined = 'connecting to the broker';
  #member: GroupMember | undefined;
  #running: Promise<void> | undefined;
  #closing = false;
  #wake: (() => void) | undefined;
  #markReady!: () => void;
  #markClosed!: () => void;

  constructor(parts: SubscriptionParts) {
    this.#parts = parts;
    this.group = parts.group;
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
    this.closed = new Promise((resolve) => {
      this.#markClosed = resolve;
    });
    parts.metrics?.up.set({ group: parts.group }, 0);
  }

  get notConsuming(): string | undefined {
    return this.#notConsuming;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async #run(): Promise<void> {
    const { log, metrics, group } = this.#parts;
    let failures = 0;
    while (!this.#closing) {
      const since = Date.now();
      const member = new GroupMember(this.#parts, () => {
        this.#notConsuming = undefined;
        metrics?.up.set({ group }, 1);
        if (failures > 0) log.info({ afterFailures: failures }, 'consumer reconnected; resuming from the committed offsets');
        this.#markReady();
      });
      this.#member = member;
      const reason = await member.run();
      this.#member = undefined;
      if (this.#closing) break;
      metrics?.up.set({ group }, 0);
      metrics?.reconnects.inc({ group });
      failures = member.consumed && Date.now() - since > STABLE_MS ? 1 : failures + 1;
      const delay = reconnectDelayMs(failures);
      const why = summarizeError(reason);
      this.#notConsuming = `${why}; reconnect ${failures} in ${Math.round(delay)} ms`;
      // Loud on the first failure of an outage, then quieter: the backoff already bounds the rate.
      log[failures === 1 ? 'error' : 'warn']({ reason: why, failures, retryInMs: Math.round(delay) }, 'kafka consumer lost its broker; reconnecting');
      log.debug({ err: reason }, 'kafka consumer failure in full');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.#closing) return this.closed;
    this.#closing = true;
    this.#notConsuming = 'closed';
    this.#wake?.();
    this.#member?.stop();
    await this.#running;
    this.#parts.metrics?.up.set({ group: this.#parts.group }, 0);
    this.#markReady();
    this.#markClosed();
    return this.closed;
  }
}

/**
 * One connection's membership in the group. Messages are handled one at a time per partition (order
 * per key) and concurrently across partitions. A handler that rejects is retried with backoff on the
 * same message, holding its partition: that only happens when the service cannot reach its own
 * database, and skipping ahead would lose the message or break order.
 */
class GroupMember {
  readonly #parts: SubscriptionParts;
  readonly #onConsuming: () => void;
  readonly #queues = new Map<string, StringMessage[]>();
  readonly #active = new Map<string, Promise<void>>();
  #buffered = 0;
  #consumer: StringConsumer | undefined;
  #stream: StringStream | undefined;
  /** Set once: the member is finished (lost or stopped) and hands back its partitions. */
  #ended = false;
  #end!: (reason: unknown) => void;
  readonly #endedWith: Promise<unknown>;
  consumed = false;

  constructor(parts: SubscriptionParts, onConsuming: () => void) {
    this.#parts = parts;
    this.#onConsuming = onConsuming;
    this.#endedWith = new Promise((resolve) => {
      this.#end = (reason) => {
        if (this.#ended) return;
        this.#ended = true;
        resolve(reason);
      };
    });
  }

  /** Graceful: finish what is in flight and leave the group. */
  stop(): void {
    this.#end(new Error('closed'));
  }

  /** Consumes until the connection fails or stop() is called; resolves with why it ended. */
  async run(): Promise<unknown> {
    try {
      await this.#parts.prepare();
      if (this.#ended) return this.#endedWith;
      const consumer = this.#parts.newConsumer();
      this.#consumer = consumer;
      consumer.on('consumer:group:join', (p) => {
        this.#parts.log.info({ assignments: p.assignments?.map((a) => `${a.topic}[${a.partitions.join(',')}]`) }, 'joined consumer group');
        this.#consuming();
      });
      // Emitted when a rejoin after a heartbeat failure fails: this client will not heartbeat again.
      consumer.on('error', (err: Error) => this.#end(err));
      consumer.on('consumer:heartbeat:stalled', (p: { lastError?: Error; stalledFor: number }) =>
        this.#end(new Error(`no heartbeat for ${p.stalledFor} ms${p.lastError ? `: ${p.lastError.message}` : ''}`, { cause: p.lastError })),
      );
      const stream = await consumer.consume({ topics: this.#parts.topics, mode: 'committed', fallbackMode: 'earliest', autocommit: false });
      this.#stream = stream;
      stream.on('data', (m: StringMessage) => this.#enqueue(m));
      // The client destroys the stream after a fetch or metadata request failed past its retries.
      stream.on('error', (err: Error) => this.#end(err));
      stream.on('close', () => this.#end(new Error('the consumer stream closed')));
      if (!this.#ended) this.#consuming();
    } catch (err) {
      this.#end(err);
    }
    const reason = await this.#endedWith;
    await this.#teardown();
    return reason;
  }

  #consuming(): void {
    if (this.#ended) return;
    this.consumed = true;
    this.#onConsuming();
  }

  #enqueue(message: StringMessage): void {
    if (this.#ended) return;
    const lane = `${message.topic}/${message.partition}`;
    let queue = this.#queues.get(lane);
    if (!queue) {
      queue = [];
      this.#queues.set(lane, queue);
    }
    queue.push(message);
    this.#buffered++;
    if (this.#buffered >= this.#parts.maxBuffered) this.#stream?.pause();
    if (!this.#active.has(lane)) this.#active.set(lane, this.#drain(lane, queue));
  }

  async #drain(lane: string, queue: StringMessage[]): Promise<void> {
    while (queue.length > 0 && !this.#ended) {
      const message = queue[0]!;
      if (!(await this.#handleUntilDone(message))) break;
      queue.shift();
      this.#buffered--;
      if (this.#buffered < this.#parts.maxBuffered / 2 && this.#stream?.isPaused()) this.#stream.resume();
      // Commits are coalesced by the client and only move forward; a failed one is repeated by a later one.
      Promise.resolve(message.commit()).catch((err: unknown) => this.#parts.log.debug({ err, lane }, 'offset commit failed (retried by a later commit)'));
    }
    this.#active.delete(lane);
  }

  /** False when the member ended before the message could be handled. */
  async #handleUntilDone(message: StringMessage): Promise<boolean> {
    const prefix = this.#parts.prefix;
    const inbound: InboundMessage = {
      topic: message.topic.startsWith(prefix) ? message.topic.slice(prefix.length) : message.topic,
      partition: message.partition,
      offset: message.offset.toString(),
      key: message.key || undefined,
      value: message.value,
      headers: Object.fromEntries(message.headers),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#parts.handler(inbound);
        return true;
      } catch (err) {
        if (this.#ended) return false;
        const delay = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
        this.#parts.log.error(
          { err, topic: message.topic, partition: message.partition, offset: inbound.offset, attempt, retryInMs: delay },
          'message not handled; retrying',
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * In-flight messages finish; everything still queued was not acknowledged and is fetched again by
   * whoever owns the partition next (this process's next member, or another instance).
   */
  async #teardown(): Promise<void> {
    this.#stream?.pause();
    for (const queue of this.#queues.values()) queue.length = 0;
    await Promise.allSettled(this.#active.values());
    const log = this.#parts.log;
    const stream = this.#stream;
    const consumer = this.#consumer;
    await withTimeout(
      (async () => {
        await stream?.close().catch((err: unknown) => log.debug({ err }, 'closing kafka stream'));
        await consumer?.close(true).catch((err: unknown) => log.debug({ err }, 'closing kafka consumer'));
      })(),
      TEARDOWN_TIMEOUT_MS,
    ).catch(() => log.warn('the old kafka consumer did not close in time; dropped'));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
