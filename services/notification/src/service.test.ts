/** Start-up: the mail settings are checked before anything runs, and a bad one is named. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import { startService } from '@folio/platform/service';
import { createTestDatabase, type TestDatabase } from '@folio/platform/testing';
import notification from './service.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('notification-startup');
});
after(() => db.drop());

const start = (env: Record<string, string>) =>
  startService(notification, {
    env: { DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'silent', KAFKA_BROKERS: '', IDENTITY_URL: 'http://127.0.0.1:9', ...env },
    transport: new EmbeddedTransport(),
  });

test('an SMTP_URL that is not smtp:// or smtps:// stops the start, without showing the value (it may hold a password)', async () => {
  await assert.rejects(start({ SMTP_URL: 'https://user:secret@mail.example' }), (err: Error) => {
    assert.match(err.message, /SMTP_URL: must use smtp: or smtps:/);
    assert.doesNotMatch(err.message, /secret/);
    return true;
  });
});

test('a NOTIFY_FROM without an address stops the start, naming it', async () => {
  await assert.rejects(start({ SMTP_URL: 'smtp://127.0.0.1:2525', NOTIFY_FROM: 'Folio' }), /NOTIFY_FROM must be an e-mail address/);
});

test('NOTIFY_MAX_ATTEMPTS below one is refused', async () => {
  await assert.rejects(start({ NOTIFY_MAX_ATTEMPTS: '0' }), /NOTIFY_MAX_ATTEMPTS: must be at least 1/);
});
