import { Counter, type Registry } from 'prom-client';
import { runWithContext } from '../context.ts';
import { type Pool, type Tx, withTransaction } from '../db.ts';
import type { Logger } from '../log.ts';
import { deadLetterTopicOf, type Envelope, type EventDefinition, headers, InvalidEventError, type PayloadOf, parseEnvelope, topicOf } from './envelope.ts';
import { claimMessage } from './inbox.ts';
import type { Outbox } from './outbox.ts';
import type { InboundMessage, Subscription, Transport } from './transport.ts';

/** Applies one event inside the transaction that also records it in the inbox. */
export type EventHandler<D extends EventDefinition = EventDefinition> = (tx: Tx, event: Envelope<PayloadOf<D>>) => Promise<void>;

export interface HandlerBinding {
  event: EventDefinition;
  handle: EventHandler;
}

/** Pairs an event definition with its handler, keeping the payload type. */
export function on<D extends EventDefinition>(event: D, handle: EventHandler<D>): HandlerBinding {
  return { event, handle: handle as EventHandler };
}

export interface ConsumerOptions {
  /** The consumer group, and the inbox's consumer name: one per service role, e.g. "cart". */
  name: string;
  pool: Pool;
  transport: Transport;
  /** Where dead letters are written, so parking a message is atomic with marking it done. */
  outbox: Outbox;
  handlers: HandlerBinding[];
  log: Logger;
  metrics?: Registry;
  /** Tries per message before it is dead-lettered. */
  maxAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Observation points (instrumentation and failure tests); they run outside the transaction. */
  hooks?: {
    /** After the effect committed, before the message is acknowledged. */
    afterCommit?: (event: Envelope) => Promise<void> | void;
    onDuplicate?: (event: Envelope) => void;
  };
}

type Outcome = 'applied' | 'duplicate' | 'dead-lettered';

/**
 * Consumes events idempotently: each message is checked against its schema, applied at most
 * once (inbox), retried with exponential backoff when its handler fails, and after
 * maxAttempts parked on `<topic>.dlq` so one poison message never blocks its partition.
 */
export class EventConsumer {
  readonly #opts: Required<Omit<ConsumerOptions, 'metrics' | 'hooks'>> & Pick<ConsumerOptions, 'hooks'>;
  readonly #known: Map<string, EventDefinition>;
  readonly #handlers: Map<string, EventHandler>;
  readonly #counter: Counter | undefined;
  #subscription: Subscription | undefined;
  #closing = false;

  constructor(opts: ConsumerOptions) {
    this.#opts = { maxAttempts: 5, backoffMs: 200, maxBackoffMs: 10_000, ...opts };
    this.#known = new Map(opts.handlers.map((h) => [h.event.type, h.event]));
    this.#handlers = new Map(opts.handlers.map((h) => [h.event.type, h.handle]));
    if (this.#handlers.size !== opts.handlers.length) throw new Error(`consumer ${opts.name}: two handlers for one event type`);
    if (opts.metrics) {
      this.#counter = new Counter({
        name: 'folio_messages_consumed_total',
        help: 'Messages consumed, by outcome',
        labelNames: ['consumer', 'type', 'outcome'],
        registers: [opts.metrics],
      });
    }
  }

  get topics(): string[] {
    return [...this.#known.values()].map(topicOf);
  }

  async start(): Promise<Subscription> {
    this.#subscription = await this.#opts.transport.subscribe({
      groupId: this.#opts.name,
      topics: this.topics,
      alsoCreate: this.topics.map(deadLetterTopicOf),
      handler: async (m) => {
        await this.handle(m);
      },
    });
    return this.#subscription;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#subscription?.close();
  }

  /** Handles one delivered message; resolves when it may be acknowledged. */
  async handle(message: InboundMessage): Promise<Outcome> {
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(message.value, this.#known);
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      const id = message.headers[headers.messageId] ?? `${message.topic}/${message.partition}/${message.offset}`;
      this.#opts.log.error({ topic: message.topic, messageId: id, reason: err.message }, 'unreadable message dead-lettered');
      return this.#deadLetter(message, id, err.message, 1);
    }
    return runWithContext({ correlationId: envelope.correlationId }, () => this.#apply(message, envelope));
  }

  async #apply(message: InboundMessage, envelope: Envelope): Promise<Outcome> {
    const handle = this.#handlers.get(envelope.type) as EventHandler;
    const log = this.#opts.log;
    for (let attempt = 1; ; attempt++) {
      let lastError: unknown;
      try {
        const applied = await withTransaction(this.#opts.pool, async (tx) => {
          if (!(await claimMessage(tx, this.#opts.name, envelope.id))) return false;
          await handle(tx, envelope);
          return true;
        });
        if (!applied) {
          this.#count(envelope.type, 'duplicate');
          log.debug({ eventId: envelope.id, type: envelope.type }, 'duplicate message skipped');
          this.#opts.hooks?.onDuplicate?.(envelope);
          return 'duplicate';
        }
        await this.#opts.hooks?.afterCommit?.(envelope);
        this.#count(envelope.type, 'applied');
        return 'applied';
      } catch (err) {
        lastError = err;
      }
      if (attempt >= this.#opts.maxAttempts || this.#closing) {
        if (this.#closing && attempt < this.#opts.maxAttempts) throw lastError; // not acknowledged: redelivered after restart
        log.error({ err: lastError, eventId: envelope.id, type: envelope.type, attempts: attempt }, 'handler kept failing; message dead-lettered');
        return this.#deadLetter(message, envelope.id, String((lastError as Error)?.message ?? lastError), attempt);
      }
      const delay = Math.min(this.#opts.maxBackoffMs, this.#opts.backoffMs * 2 ** (attempt - 1));
      log.warn({ err: lastError, eventId: envelope.id, type: envelope.type, attempt, retryInMs: delay }, 'handler failed; retrying');
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random() / 2)));
    }
  }

  async #deadLetter(message: InboundMessage, id: string, reason: string, attempts: number): Promise<Outcome> {
    // If this fails (database down) the error propagates: the message is not acknowledged and comes again.
    const parked = await withTransaction(this.#opts.pool, async (tx) => {
      if (!(await claimMessage(tx, this.#opts.name, id))) return false;
      await this.#opts.outbox.write(tx, {
        topic: deadLetterTopicOf(message.topic),
        key: message.key ?? id,
        value: message.value,
        headers: {
          ...message.headers,
          [headers.dlqReason]: reason.slice(0, 1000),
          [headers.dlqAttempts]: String(attempts),
          [headers.dlqConsumer]: this.#opts.name,
          [headers.originalTopic]: message.topic,
          [headers.originalPartition]: String(message.partition),
          [headers.originalOffset]: message.offset,
        },
      });
      return true;
    });
    this.#count(message.headers[headers.eventType] ?? 'unknown', parked ? 'dead-lettered' : 'duplicate');
    return parked ? 'dead-lettered' : 'duplicate';
  }

  #count(type: string, outcome: Outcome): void {
    this.#counter?.inc({ consumer: this.#opts.name, type, outcome });
  }
}
