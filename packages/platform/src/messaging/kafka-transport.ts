import { Admin, Consumer, type Message, ProduceAcks, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import type { Logger } from '../log.ts';
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
}

type StringMessage = Message<string, string, string, string>;

/**
 * Kafka through @platformatic/kafka. The producer is idempotent with acks=all, so a relay retry
 * cannot reorder or duplicate within a partition; keys are aggregate ids, so one aggregate's
 * events share a partition. Consumers commit an offset only after the handler resolved.
 */
export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  readonly #opts: Required<KafkaTransportOptions>;
  readonly #subscriptions = new Set<KafkaSubscription>();
  readonly #knownTopics = new Set<string>();
  #producer: Producer<string, string, string, string> | undefined;
  #admin: Admin | undefined;

  constructor(opts: KafkaTransportOptions) {
    this.#opts = { partitions: 6, maxBuffered: 1000, namespace: '', ...opts };
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
    await this.#producer.send({
      messages: messages.map((m) => ({ topic: this.#named(m.topic), key: m.key, value: m.value, headers: new Map(Object.entries(m.headers)) })),
    });
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

  async check(): Promise<void> {
    await this.#adminClient().metadata({ topics: [] });
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    const consumer = new Consumer({
      ...this.#base,
      clientId: `${this.#opts.clientId}-${opts.groupId}`,
      groupId: this.#named(opts.groupId),
      deserializers: stringDeserializers,
      autocommit: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
      // The broker answers a fetch as soon as a message arrives; this only bounds how often an idle consumer asks.
      maxWaitTime: 500,
      highWaterMark: this.#opts.maxBuffered,
    });
    const log = this.#opts.log.child({ consumerGroup: this.#named(opts.groupId) });
    const subscription = new KafkaSubscription(consumer, opts.handler, log, this.#opts.maxBuffered, this.#opts.namespace);
    this.#subscriptions.add(subscription);
    subscription.closed.then(() => this.#subscriptions.delete(subscription));
    await subscription.start(opts.topics.map((t) => this.#named(t)));
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    await this.#producer?.close();
    await this.#admin?.close();
  }
}

/**
 * One consumer-group member. Messages are handled one at a time per partition (order per key)
 * and concurrently across partitions. A handler that rejects is retried with backoff on the same
 * message, holding its partition: that only happens when the service cannot reach its own
 * database, and skipping ahead would lose the message or break order.
 */
class KafkaSubscription implements Subscription {
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;
  readonly #consumer: Consumer<string, string, string, string>;
  readonly #handler: MessageHandler;
  readonly #log: Logger;
  readonly #maxBuffered: number;
  /** Stripped from the broker's topic names: handlers see event types. */
  readonly #prefix: string;
  readonly #queues = new Map<string, StringMessage[]>();
  readonly #active = new Map<string, Promise<void>>();
  #buffered = 0;
  #stream: Awaited<ReturnType<Consumer<string, string, string, string>['consume']>> | undefined;
  #closing = false;
  #markReady!: () => void;
  #markClosed!: () => void;

  constructor(consumer: Consumer<string, string, string, string>, handler: MessageHandler, log: Logger, maxBuffered: number, namespace: string) {
    this.#prefix = namespace ? `${namespace}.` : '';
    this.#consumer = consumer;
    this.#handler = handler;
    this.#log = log;
    this.#maxBuffered = maxBuffered;
    this.ready = new Promise((resolve) => {
      this.#markReady = resolve;
    });
    this.closed = new Promise((resolve) => {
      this.#markClosed = resolve;
    });
    consumer.on('consumer:group:join', (p) => {
      log.info({ assignments: p.assignments?.map((a) => `${a.topic}[${a.partitions.join(',')}]`) }, 'joined consumer group');
      this.#markReady();
    });
  }

  async start(topics: string[]): Promise<void> {
    const stream = await this.#consumer.consume({ topics, mode: 'committed', fallbackMode: 'earliest', autocommit: false });
    this.#stream = stream;
    stream.on('data', (m: StringMessage) => this.#enqueue(m));
    stream.on('error', (err: Error) => this.#log.error({ err }, 'kafka consumer stream error'));
  }

  #enqueue(message: StringMessage): void {
    const lane = `${message.topic}/${message.partition}`;
    let queue = this.#queues.get(lane);
    if (!queue) {
      queue = [];
      this.#queues.set(lane, queue);
    }
    queue.push(message);
    this.#buffered++;
    if (this.#buffered >= this.#maxBuffered) this.#stream?.pause();
    if (!this.#active.has(lane)) this.#active.set(lane, this.#drain(lane, queue));
  }

  async #drain(lane: string, queue: StringMessage[]): Promise<void> {
    while (queue.length > 0 && !this.#closing) {
      const message = queue[0]!;
      if (!(await this.#handleUntilDone(message))) break;
      queue.shift();
      this.#buffered--;
      if (this.#buffered < this.#maxBuffered / 2 && this.#stream?.isPaused()) this.#stream.resume();
      // Commits are coalesced by the client and only move forward; a failed one is repeated by a later one.
      Promise.resolve(message.commit()).catch((err: unknown) => this.#log.debug({ err, lane }, 'offset commit failed (retried by a later commit)'));
    }
    this.#active.delete(lane);
  }

  /** False when the subscription closed before the message could be handled. */
  async #handleUntilDone(message: StringMessage): Promise<boolean> {
    const inbound: InboundMessage = {
      topic: message.topic.startsWith(this.#prefix) ? message.topic.slice(this.#prefix.length) : message.topic,
      partition: message.partition,
      offset: message.offset.toString(),
      key: message.key || undefined,
      value: message.value,
      headers: Object.fromEntries(message.headers),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#handler(inbound);
        return true;
      } catch (err) {
        if (this.#closing) return false;
        const delay = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
        this.#log.error(
          { err, topic: message.topic, partition: message.partition, offset: inbound.offset, attempt, retryInMs: delay },
          'message not handled; retrying',
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closing) return this.closed;
    this.#closing = true;
    this.#stream?.pause();
    // In-flight messages finish; anything still queued was not acknowledged and is fetched again by whoever owns the partition next.
    await Promise.allSettled(this.#active.values());
    await this.#stream?.close().catch((err: unknown) => this.#log.warn({ err }, 'closing kafka stream'));
    await this.#consumer.close().catch((err: unknown) => this.#log.warn({ err }, 'closing kafka consumer'));
    this.#markReady();
    this.#markClosed();
  }
}
