/**
 * /_sim: the test knobs. Faults to inject, every event with its delivery attempts, a session with everything
 * attached to it, and a reset. Unauthenticated on purpose — the simulator is a test tool and must never be
 * reachable from outside a test or development machine. Errors here are the platform's problem+json.
 */
import type { App } from '@folio/platform/http';
import { problems } from '@folio/platform/problem';
import { Type } from 'typebox';
import { FaultsPatch } from './faults.ts';
import type { Simulator } from './simulator.ts';

const TAGS = ['Simulator controls'];

export async function simRoutes(app: App, sim: Pick<Simulator, 'setFaults' | 'clearFaults' | 'faults' | 'events' | 'session' | 'reset'>): Promise<void> {
  app.get('/faults', { schema: { tags: TAGS, summary: 'The faults in force' } }, async () => sim.faults());

  app.post(
    '/faults',
    {
      schema: {
        tags: TAGS,
        summary: 'Turn faults on (the fields given replace the current ones)',
        description:
          'dropWebhooks: the next N delivery attempts are not sent (and retried later, as failures are); webhookDelayMs: every attempt is sent that much later; ' +
          'duplicateWebhooks: each new event is delivered twice; reorderWebhooks: new events are held and delivered in batches, newest first; ' +
          'apiStatus: every /v1 call answers that status (api_error) and does nothing; apiHangMs: every /v1 answer comes that much later.',
        body: FaultsPatch,
      },
    },
    async (request) => sim.setFaults(request.body),
  );

  app.delete('/faults', { schema: { tags: TAGS, summary: 'Turn every fault off (held webhooks are delivered)' } }, async () => sim.clearFaults());

  app.get(
    '/events',
    {
      schema: {
        tags: TAGS,
        summary: 'Every event, oldest first, with each delivery attempt and its outcome',
        querystring: Type.Object({ type: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }),
      },
    },
    async (request) => ({ object: 'list', data: sim.events().filter((e) => !request.query.type || e.type === request.query.type) }),
  );

  app.get(
    '/sessions/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'A Checkout Session with its PaymentIntent, charges, refunds, line items and events',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      },
    },
    async (request) => {
      const view = sim.session(request.params.id);
      if (!view) throw problems.notFound(`There is no Checkout Session ${request.params.id}.`);
      return view;
    },
  );

  app.post(
    '/reset',
    {
      schema: {
        tags: TAGS,
        summary: 'Forget everything: objects, events (pending deliveries are dropped), idempotency keys, faults; restart the random sequence',
      },
    },
    async (_request, reply) => {
      await sim.reset();
      return reply.code(204).send();
    },
  );
}
