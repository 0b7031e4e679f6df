/**
 * A minimal service used to test the service runtime end to end: a route that changes state and
 * publishes an event in one transaction, and a consumer of that event. Test code only.
 */
import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { withTransaction } from '../db.ts';
import { on } from '../messaging/consumer.ts';
import { defineEvent } from '../messaging/envelope.ts';
import { problems } from '../problem.ts';
import { defineService, folderOf } from '../service.ts';

export const noteCreated = (prefix: string) => defineEvent(`${prefix}.note-created`, 1, Type.Object({ text: Type.String() }));

const Note = Type.Object({ id: Type.String({ format: 'uuid' }), text: Type.String(), seen: Type.Boolean() });

export const notesService = (eventPrefix = 'test') => {
  const created = noteCreated(eventPrefix);
  return defineService({
    name: 'notes',
    description: 'Test fixture',
    migrations: folderOf(new URL('./notes-migrations', import.meta.url)),
    setup({ app, pool, outbox }) {
      app.post(
        '/notes',
        { schema: { body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }), response: { 201: Note } } },
        async (request, reply) => {
          const id = randomUUID();
          await withTransaction(pool, async (tx) => {
            await tx.query('INSERT INTO notes (id, text) VALUES ($1, $2)', [id, request.body.text]);
            await outbox.publish(tx, created, { aggregateId: id, payload: { text: request.body.text } });
          });
          return reply.code(201).send({ id, text: request.body.text, seen: false });
        },
      );
      app.get('/notes/:id', { schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }), response: { 200: Note } } }, async (request) => {
        const { rows } = await pool.query('SELECT id, text, seen FROM notes WHERE id = $1', [request.params.id]);
        if (!rows[0]) throw problems.notFound(`No note ${request.params.id}.`);
        return rows[0];
      });
      return {
        consumes: [
          on(created, async (tx, event) => {
            await tx.query('UPDATE notes SET seen = true WHERE id = $1', [event.aggregateId]);
          }),
        ],
      };
    },
  });
};
