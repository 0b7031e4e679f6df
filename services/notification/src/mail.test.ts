/**
 * Mailing over SMTP, against a real SMTP server (smtp-server) that records what arrives: the right
 * words to the right address, an outage followed by recovery delivering every mail exactly once,
 * and giving up (failed) when attempts are spent, the address is refused, or none ever becomes known.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '@folio/platform/testing';
import { type NotificationFixture, notificationsOf, orderEvents, type StoredNotification, startNotification, summaryOf } from './notification.fixture.ts';
import { startTestSmtp, type TestSmtp } from './smtp.fixture.ts';

const STOREFRONT = 'https://shop.example';

const mailsTo = (smtp: TestSmtp, address: string) => smtp.received.filter((m) => m.envelopeTo.includes(address));
const idOf = (messageId: string) => /^<notification-([0-9a-f-]{36})@folio\.example>$/.exec(messageId)?.[1];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('with SMTP', () => {
  let f: NotificationFixture;
  let smtp: TestSmtp & { close(): Promise<void> };

  before(async () => {
    smtp = await startTestSmtp();
    f = await startNotification('notification-mail', { SMTP_URL: smtp.url, NOTIFY_MAX_ATTEMPTS: '60', STOREFRONT_URL: STOREFRONT });
  });
  after(async () => {
    await f.close();
    await smtp.close();
  });

  test('a paid order is mailed to the reader: what they bought, a link, a Message-ID of the notification', async () => {
    const order = orderEvents(f.transport, { userId: 'reader-paid', email: 'paid@example.org', summary: summaryOf('The Salt House') });
    await order.created();
    await order.paid();
    const [mail] = await eventually(() => mailsTo(smtp, 'paid@example.org').length > 0 && mailsTo(smtp, 'paid@example.org'), { what: 'the mail' });
    const [row] = await notificationsOf(f.pool, order.orderId);
    assert.equal(mail!.to, 'paid@example.org');
    assert.equal(mail!.from, 'Folio <orders@folio.example>');
    assert.equal(mail!.subject, row!.subject);
    assert.match(mail!.subject, /^Your order [0-9A-F]{8} is paid: thank you$/);
    assert.equal(mail!.text, row!.message);
    assert.match(mail!.text, /2 × The Salt House: €12\.99 each, €25\.98/);
    assert.match(mail!.text, /Total: €31\.92/);
    assert.ok(mail!.text.includes(`See your order: ${STOREFRONT}/orders/${order.orderId}`));
    assert.equal(idOf(mail!.messageId), row!.id);
    assert.equal(mail!.headers.get('auto-submitted'), 'auto-generated');
    const sent = await eventually(async () => {
      const [r] = await notificationsOf(f.pool, order.orderId);
      return r?.status === 'sent' && r;
    });
    assert.equal(sent.email, 'paid@example.org');
    assert.equal(sent.attempts, 1);
    assert.ok(sent.sentAt);
    assert.equal(sent.lastError, null);
  });

  test('a payment failure that arrives before its order is mailed, once, to the order’s reader when the order arrives', async () => {
    const order = orderEvents(f.transport, { userId: 'reader-early', email: 'early@example.org' });
    await order.paymentFailed('Your card was declined.');
    // The sender has looked at it and found no address yet.
    const waiting = await eventually(async () => {
      const [r] = await notificationsOf(f.pool, order.orderId);
      return r?.lastError ? r : undefined;
    });
    assert.equal(waiting.status, 'pending');
    assert.equal(waiting.email, null);
    assert.equal(waiting.attempts, 0);
    await sleep(150);
    assert.equal(mailsTo(smtp, 'early@example.org').length, 0);

    await order.created();
    const row = await eventually(async () => {
      const [r] = await notificationsOf(f.pool, order.orderId);
      return r?.status === 'sent' && r;
    });
    assert.equal(row.email, 'early@example.org');
    await sleep(150);
    const mails = mailsTo(smtp, 'early@example.org');
    assert.equal(mails.length, 1);
    assert.equal(idOf(mails[0]!.messageId), row.id);
    assert.match(mails[0]!.text, /The reason given was: Your card was declined\./);
    assert.match(mails[0]!.text, /You can try paying again from your order/);
  });

  test('an order whose reader has no e-mail address: stays in the app, marked failed, nothing mailed', async () => {
    const order = orderEvents(f.transport, { userId: 'reader-noaddress' });
    await order.created();
    await order.cancelled();
    const row = await eventually(async () => {
      const [r] = await notificationsOf(f.pool, order.orderId);
      return r?.status === 'failed' && r;
    });
    assert.equal(row.lastError, 'the order has no e-mail address to send to');
    assert.equal(row.attempts, 0);
    const res = await fetch(`${f.url}/api/notifications`, { headers: { authorization: `Bearer ${await f.identity.token('reader-noaddress')}` } });
    assert.equal(((await res.json()) as { items: unknown[] }).items.length, 1);
  });

  /** N notifications for three readers, mailed while the server is unusable, then after it recovers. */
  async function outageThenRecovery(breakServer: () => Promise<void>, repair: () => Promise<void>) {
    const before = smtp.received.length;
    await breakServer();
    const orders = ['ada', 'ben', 'cy'].map((user) =>
      orderEvents(f.transport, { userId: `reader-${user}-${Date.now()}`, email: `${user}-${Date.now()}@example.org` }),
    );
    for (const order of orders) {
      await order.created();
      await order.paymentFailed();
      await order.paid();
    }
    const N = orders.length * 2;
    const rowsNow = async () => (await Promise.all(orders.map((o) => notificationsOf(f.pool, o.orderId)))).flat();
    // Every one has been tried and failed more than once; none given up, none delivered.
    await eventually(
      async () => {
        const rows = await rowsNow();
        return rows.length === N && rows.every((r) => r.attempts >= 2) && rows;
      },
      { what: 'repeated failed attempts' },
    );
    const during = await rowsNow();
    assert.ok(
      during.every((r) => r.status === 'pending' && r.lastError && r.nextAttemptAt),
      JSON.stringify(during.map((r) => [r.status, r.lastError])),
    );
    assert.equal(smtp.received.length, before, 'nothing was delivered during the outage');

    await repair();
    const sent = await eventually(
      async () => {
        const rows = await rowsNow();
        return rows.every((r) => r.status === 'sent') && rows;
      },
      { what: 'every notification sent after the recovery' },
    );
    await sleep(400); // a duplicate would arrive in this time: retries run every ≤ 200 ms
    const arrived = smtp.received.slice(before);
    const counts = smtp.countsByMessageId();
    assert.equal(arrived.length, N, 'one mail per notification');
    assert.deepEqual(new Set(arrived.map((m) => idOf(m.messageId))), new Set(sent.map((r) => r.id)));
    for (const m of arrived) assert.equal(counts.get(m.messageId), 1, `${m.messageId} arrived once`);
    for (const r of sent) {
      const mail = arrived.find((m) => idOf(m.messageId) === r.id)!;
      assert.deepEqual(mail.envelopeTo, [r.email], 'to the reader of its order');
      assert.equal(mail.subject, r.subject);
      assert.ok(r.attempts >= 3 && r.sentAt && r.nextAttemptAt === null);
    }
    return sent;
  }

  test('the SMTP server down, then back: every mail arrives once, every notification ends sent', async () => {
    await outageThenRecovery(
      () => smtp.stop(),
      () => smtp.start(),
    );
  });

  test('the SMTP server refusing (451, try later), then accepting: every mail arrives once', async () => {
    const refusedBefore = smtp.refused;
    const sent = await outageThenRecovery(
      async () => {
        smtp.mode = 'defer';
      },
      async () => {
        smtp.mode = 'accept';
      },
    );
    assert.ok(smtp.refused - refusedBefore >= sent.length * 2, 'the server did refuse them, repeatedly');
  });
});

describe('giving up', () => {
  let f: NotificationFixture;
  let smtp: TestSmtp & { close(): Promise<void> };
  const settled = async (orderId: string): Promise<StoredNotification> =>
    eventually(
      async () => {
        const [r] = await notificationsOf(f.pool, orderId);
        return r && r.status !== 'pending' && r;
      },
      { what: 'a final status' },
    );

  before(async () => {
    smtp = await startTestSmtp({ mode: 'defer' });
    f = await startNotification('notification-giveup', { SMTP_URL: smtp.url, NOTIFY_MAX_ATTEMPTS: '3', NOTIFY_RECIPIENT_WAIT_SECONDS: '1' });
  });
  after(async () => {
    await f.close();
    await smtp.close();
  });

  test('a server that keeps refusing: failed after the last attempt, with the reason', async () => {
    smtp.mode = 'defer';
    const refusedBefore = smtp.refused;
    const order = orderEvents(f.transport, { userId: 'reader-tired', email: 'tired@example.org' });
    await order.created();
    await order.paid();
    const row = await settled(order.orderId);
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, 3);
    assert.match(row.lastError ?? '', /^gave up after 3 attempts: .*451/);
    assert.equal(row.nextAttemptAt, null);
    assert.equal(row.sentAt, null);
    await sleep(300);
    assert.equal(smtp.refused - refusedBefore, 3, 'three attempts, and no more after giving up');
    assert.equal(smtp.received.length, 0);
  });

  test('an address the server refuses for good (550): failed at the first attempt', async () => {
    smtp.mode = 'reject';
    const order = orderEvents(f.transport, { userId: 'reader-gone', email: 'gone@example.org' });
    await order.created();
    await order.refunded();
    const row = await settled(order.orderId);
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, 1);
    assert.match(row.lastError ?? '', /^the mail server refused the address: .*550/);
  });

  test('an order that never becomes known: failed once the wait for its address is over', async () => {
    smtp.mode = 'accept';
    const order = orderEvents(f.transport, { userId: 'reader-orphan', email: 'orphan@example.org' });
    const started = Date.now();
    await order.paymentFailed();
    const row = await settled(order.orderId);
    assert.ok(Date.now() - started >= 900, 'it waited for the address first');
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, 0);
    assert.match(row.lastError ?? '', /never became known/);
    await order.created();
    await sleep(200);
    assert.equal(smtp.received.length, 0, 'a failed notification is not mailed later');
  });
});
