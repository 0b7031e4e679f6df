/**
 * What the outbox relay and the consumer runtime need from a broker. Two implementations:
 * Kafka (distributed) and an in-process bus (embedded `npm start`). Both give per-key order,
 * consumer groups that split keys between instances, and at-least-once delivery; exactly-once
 * effects come from the inbox on top.
 */
export interface OutboundMessage {
  topic: string;
  /** Messages with one key (an aggregate id) stay in order. */
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface InboundMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | undefined;
  value: string;
  headers: Record<string, string>;
}

/** Resolves to acknowledge. Rejecting means "not handled": the message comes again later. */
export type MessageHandler = (message: InboundMessage) => Promise<void>;

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  handler: MessageHandler;
  /** Topics to create along with the subscribed ones before consuming (the dead-letter topics). */
  alsoCreate?: string[];
}

export interface Subscription {
  /** Resolves once the instance has joined its group and can receive messages (or once it is closed). */
  readonly ready: Promise<void>;
  /**
   * Undefined while the subscription consumes; otherwise why it does not (the broker is unreachable, it
   * is rejoining its group). A subscription that loses its broker reconnects by itself: this is for /ready.
   */
  readonly notConsuming: string | undefined;
  /** Stops fetching, waits for messages in flight, then leaves the group. */
  close(): Promise<void>;
}

export interface Transport {
  readonly kind: 'kafka' | 'embedded';
  /** Resolves once every message is durably accepted (Kafka: acks=all; embedded: handled by every group). */
  publish(messages: OutboundMessage[]): Promise<void>;
  /**
   * Resolves at once with a subscription that joins its group in the background and keeps consuming,
   * reconnecting after any broker failure, until it is closed; `ready` says when it first consumes.
   */
  subscribe(opts: SubscribeOptions): Promise<Subscription>;
  ensureTopics(topics: string[]): Promise<void>;
  /** Throws, saying why, when the broker cannot be reached or a subscription is not consuming (readiness). */
  check(): Promise<void>;
  close(): Promise<void>;
}
