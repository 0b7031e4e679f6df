import { fileURLToPath } from 'node:url';
import { correlationId } from '../context.ts';
import { afterCommit, type Tx } from '../db.ts';
import { createEnvelope, type Envelope, type EventDefinition, headers, type PayloadOf, topicOf } from './envelope.ts';
import type { OutboundMessage } from './transport.ts';

/** The platform's own tables (outbox, inbox); every service applies them before its own migrations. */
export const messagingMigrations = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Writes events into the service's outbox inside the caller's transaction, so an event
 * exists if and only if the state change it describes committed.
 */
export class Outbox {
  #listeners: Array<() => void> = [];

  /** Called after a transaction that added events commits (the local relay uses it to publish at once). */
  onCommitted(listener: () => void): void {
    this.#listeners.push(listener);
  }

  async publish<D extends EventDefinition>(tx: Tx, def: D, data: { aggregateId: string; payload: PayloadOf<D> }): Promise<Envelope<PayloadOf<D>>> {
    const envelope = createEnvelope(def, { ...data, correlationId: correlationId() });
    await this.write(
      tx,
      {
        topic: topicOf(def),
        key: envelope.aggregateId,
        value: JSON.stringify(envelope),
        headers: { [headers.messageId]: envelope.id, [headers.eventType]: envelope.type, [headers.correlationId]: envelope.correlationId },
      },
      envelope.id,
    );
    return envelope;
  }

  /** A message that is not one of our events (a dead letter): stored and relayed as is. */
  async write(tx: Tx, message: OutboundMessage, id: string = crypto.randomUUID()): Promise<void> {
    await tx.query('INSERT INTO outbox (id, topic, key, value, headers) VALUES ($1, $2, $3, $4, $5)', [
      id,
      message.topic,
      message.key,
      message.value,
      JSON.stringify({ ...message.headers, [headers.messageId]: id }),
    ]);
    afterCommit(tx, () => {
      for (const l of this.#listeners) l();
    });
  }
}
