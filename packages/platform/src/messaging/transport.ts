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
}

export interface Subscription {
  /** Resolves once the instance has joined its group and can receive messages. */
  readonly ready: Promise<void>;
  /** Stops fetching, waits for messages in flight, then leaves the group. */
  close(): Promise<void>;
}

export interface Transport {
  readonly kind: 'kafka' | 'embedded';
  /** Resolves once every message is durably accepted (Kafka: acks=all; embedded: handled by every group). */
  publish(messages: OutboundMessage[]): Promise<void>;
  subscribe(opts: SubscribeOptions): Promise<Subscription>;
  ensureTopics(topics: string[]): Promise<void>;
  /** Throws when the broker cannot be reached (readiness). */
  check(): Promise<void>;
  close(): Promise<void>;
}
