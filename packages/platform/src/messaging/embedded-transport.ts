import { createHash } from 'node:crypto';
import type { InboundMessage, MessageHandler, OutboundMessage, SubscribeOptions, Subscription, Transport } from './transport.ts';

/**
 * The in-process broker of the embedded topology (`npm start`: every service in one process).
 * It keeps no log of its own: the outboxes are the log. publish() resolves only after every
 * subscribed group has handled the message, so the relay deletes an outbox row only once it
 * was applied everywhere, and a crash mid-way leaves the row to be delivered again.
 *
 * Like Kafka, each topic has a fixed number of partitions chosen by key hash; within a group a
 * partition belongs to one member and is handled one message at a time, which keeps per-key order.
 */
export class EmbeddedTransport implements Transport {
  readonly kind = 'embedded' as const;
  readonly #partitions: number;
  readonly #groups = new Map<string, Group>();
  readonly #offsets = new Map<string, number>();
  #closed = false;
  readonly #opened: Promise<void>;
  #open!: () => void;

  /**
   * `held: true` keeps publishing waiting until open() is called. Unlike Kafka, this bus keeps no
   * history, so a launcher holds it until every service has subscribed; until then events simply
   * stay in the outboxes.
   */
  constructor(opts: { partitions?: number; held?: boolean } = {}) {
    this.#partitions = opts.partitions ?? 6;
    this.#opened = new Promise((resolve) => {
      this.#open = resolve;
    });
    if (!opts.held) this.#open();
  }

  /** Lets held publications through (see the constructor). */
  open(): void {
    this.#open();
  }

  async publish(messages: OutboundMessage[]): Promise<void> {
    await this.#opened;
    if (this.#closed) throw new Error('embedded transport is closed');
    const deliveries: Promise<void>[] = [];
    // Within one batch, a message waits for the previous one of its partition in the same group:
    // if that one failed, this one is not handed over either, so a retry cannot reorder a key.
    const previous = new Map<string, Promise<void>>();
    for (const m of messages) {
      const partition = partitionOf(m.key, this.#partitions);
      const offsetKey = `${m.topic}/${partition}`;
      const offset = (this.#offsets.get(offsetKey) ?? -1) + 1;
      this.#offsets.set(offsetKey, offset);
      const inbound: InboundMessage = { topic: m.topic, partition, offset: String(offset), key: m.key, value: m.value, headers: { ...m.headers } };
      for (const [groupId, group] of this.#groups) {
        if (!group.topics.has(m.topic)) continue;
        const lane = `${groupId}/${partition}`;
        const delivery = group.deliver(inbound, previous.get(lane));
        previous.set(lane, delivery);
        deliveries.push(delivery);
      }
    }
    // Wait for all, then fail if any failed: the relay will publish the batch again (the inbox absorbs repeats).
    const results = await Promise.allSettled(deliveries);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    if (this.#closed) throw new Error('embedded transport is closed');
    let group = this.#groups.get(opts.groupId);
    if (!group) {
      group = new Group(this.#partitions);
      this.#groups.set(opts.groupId, group);
    }
    for (const t of opts.topics) group.topics.add(t);
    const member = group.join(opts.handler);
    const g = group;
    return {
      ready: Promise.resolve(),
      notConsuming: undefined,
      close: () => g.leave(member),
    };
  }

  async ensureTopics(): Promise<void> {}

  async check(): Promise<void> {
    if (this.#closed) throw new Error('embedded transport is closed');
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#open(); // a relay waiting on a held bus gets the "closed" error and stops
    await Promise.all([...this.#groups.values()].map((g) => g.drain()));
  }
}

export function partitionOf(key: string, partitions: number): number {
  return createHash('md5').update(key).digest().readUInt32BE(0) % partitions;
}

interface Member {
  handler: MessageHandler;
  closed: boolean;
}

class Group {
  readonly topics = new Set<string>();
  readonly #members: Member[] = [];
  /** The tail of each partition's chain of deliveries: the next one starts when it settles. */
  readonly #tails: Promise<void>[];

  constructor(partitions: number) {
    this.#tails = Array.from({ length: partitions }, () => Promise.resolve());
  }

  join(handler: MessageHandler): Member {
    const member = { handler, closed: false };
    this.#members.push(member);
    return member;
  }

  async leave(member: Member): Promise<void> {
    member.closed = true;
    const i = this.#members.indexOf(member);
    if (i >= 0) this.#members.splice(i, 1);
    await this.drain();
  }

  drain(): Promise<void> {
    return Promise.allSettled(this.#tails).then(() => {});
  }

  deliver(message: InboundMessage, after?: Promise<void>): Promise<void> {
    const p = message.partition;
    const run = this.#tails[p]!.then(async () => {
      if (after) await after;
      // Assigned at hand-over time, so a partition moves to a remaining member when one leaves.
      const live = this.#members.filter((m) => !m.closed);
      const member = live[p % Math.max(1, live.length)];
      if (!member) throw new Error(`no live consumer in the group for ${message.topic}`);
      return member.handler(message);
    });
    this.#tails[p] = run.catch(() => {});
    return run;
  }
}
