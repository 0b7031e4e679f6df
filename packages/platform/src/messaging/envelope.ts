import { randomUUID } from 'node:crypto';
import { type Static, type TSchema, Type } from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * The one envelope every event travels in, on every transport. The payload schema belongs
 * to the event's definition; both are checked when an event is published and when it is
 * consumed, so a malformed event is refused at the source and quarantined at the sink.
 */
export interface Envelope<P = unknown> {
  id: string;
  type: string;
  version: number;
  aggregateId: string;
  occurredAt: string;
  correlationId: string;
  payload: P;
}

const EnvelopeSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    type: Type.String({ pattern: '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+$', maxLength: 100 }),
    version: Type.Integer({ minimum: 1 }),
    aggregateId: Type.String({ minLength: 1, maxLength: 200 }),
    occurredAt: Type.String({ format: 'date-time' }),
    correlationId: Type.String({ minLength: 1, maxLength: 128 }),
    payload: Type.Unknown(),
  },
  { additionalProperties: false },
);
const envelopeCheck = Compile(EnvelopeSchema);

export interface EventDefinition<S extends TSchema = TSchema> {
  /** Also the Kafka topic, e.g. "order.paid". */
  type: string;
  version: number;
  payload: S;
  check(payload: unknown): string | undefined;
}

export type PayloadOf<D> = D extends EventDefinition<infer S> ? Static<S> : never;

export function defineEvent<S extends TSchema>(type: string, version: number, payload: S): EventDefinition<S> {
  const compiled = Compile(payload);
  return {
    type,
    version,
    payload,
    check(value) {
      if (compiled.Check(value)) return undefined;
      return describeErrors(compiled.Errors(value));
    },
  };
}

function describeErrors(errors: Iterable<{ instancePath: string; message: string }>): string {
  const parts: string[] = [];
  for (const e of errors) {
    parts.push(`${e.instancePath || '/'} ${e.message}`);
    if (parts.length === 5) break;
  }
  return parts.join('; ');
}

export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

export function createEnvelope<D extends EventDefinition>(
  def: D,
  data: { aggregateId: string; payload: PayloadOf<D>; correlationId: string; id?: string; occurredAt?: Date },
): Envelope<PayloadOf<D>> {
  const problem = def.check(data.payload);
  if (problem) throw new InvalidEventError(`${def.type} v${def.version} payload is invalid: ${problem}`);
  const envelope: Envelope<PayloadOf<D>> = {
    id: data.id ?? randomUUID(),
    type: def.type,
    version: def.version,
    aggregateId: data.aggregateId,
    occurredAt: (data.occurredAt ?? new Date()).toISOString(),
    correlationId: data.correlationId,
    payload: data.payload,
  };
  const envelopeProblem = envelopeCheck.Check(envelope) ? undefined : describeErrors(envelopeCheck.Errors(envelope));
  if (envelopeProblem) throw new InvalidEventError(`${def.type} envelope is invalid: ${envelopeProblem}`);
  return envelope;
}

/** Parses and checks a consumed message; throws InvalidEventError saying what is wrong. */
export function parseEnvelope(raw: string, known: ReadonlyMap<string, EventDefinition>): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidEventError('message is not JSON');
  }
  if (!envelopeCheck.Check(value)) throw new InvalidEventError(`envelope is invalid: ${describeErrors(envelopeCheck.Errors(value))}`);
  const envelope = value as Envelope;
  const def = known.get(envelope.type);
  if (!def) throw new InvalidEventError(`no handler knows event type ${envelope.type}`);
  if (envelope.version !== def.version) throw new InvalidEventError(`${envelope.type} v${envelope.version} is not the supported v${def.version}`);
  const problem = def.check(envelope.payload);
  if (problem) throw new InvalidEventError(`${envelope.type} payload is invalid: ${problem}`);
  return envelope;
}

/** The topic an event is published on. */
export const topicOf = (def: Pick<EventDefinition, 'type'>): string => def.type;
/** Where messages a consumer gave up on are parked, with the reason in headers. */
export const deadLetterTopicOf = (topic: string): string => `${topic}.dlq`;

/** Header names shared by the transports and the consumer runtime. */
export const headers = {
  messageId: 'message-id',
  eventType: 'event-type',
  correlationId: 'x-correlation-id',
  dlqReason: 'x-dlq-reason',
  dlqAttempts: 'x-dlq-attempts',
  dlqConsumer: 'x-dlq-consumer',
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
} as const;
