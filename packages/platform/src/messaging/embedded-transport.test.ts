import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EmbeddedTransport } from './embedded-transport.ts';
import type { InboundMessage } from './transport.ts';

test('a held bus keeps publications waiting until open(), so a late subscriber misses nothing', async () => {
  const bus = new EmbeddedTransport({ held: true });
  const received: InboundMessage[] = [];
  let published = false;
  const publishing = bus.publish([{ topic: 'catalog.book-added', key: 'b1', value: '{}', headers: {} }]).then(() => {
    published = true;
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(published, false, 'held until open');
  await bus.subscribe({ groupId: 'inventory', topics: ['catalog.book-added'], handler: async (m) => void received.push(m) });
  bus.open();
  await publishing;
  assert.equal(received.length, 1);
  await bus.close();
});

test('closing a held bus releases a waiting publisher with an error instead of hanging it', async () => {
  const bus = new EmbeddedTransport({ held: true });
  const publishing = bus.publish([{ topic: 't.x', key: 'k', value: '{}', headers: {} }]);
  await bus.close();
  await assert.rejects(publishing, /closed/);
});
