/**
 * The notification service: tells readers what happened to their orders (paid, payment failed,
 * cancelled, refunded). It keeps one notification per reader and event, from the order and payment
 * events, lists a reader's own at GET /api/notifications, and mails them over SMTP when SMTP_URL is
 * set, retrying with backoff. Without SMTP_URL notifications are in-app only.
 */
import { authConfig, verifierFromConfig } from '@folio/platform/auth';
import { env } from '@folio/platform/config';
import { defineService, folderOf, StartupError } from '@folio/platform/service';
import { createMailSender } from './mail.sender.ts';
import { createMailer } from './mailer.ts';
import { notificationEventHandlers } from './notification.events.ts';
import { registerNotificationRoutes } from './notification.routes.ts';
import { createNotificationService } from './notification.service.ts';

export const notificationConfig = {
  ...authConfig,
  SMTP_URL: env.optional(
    env.url({
      description: 'SMTP server notifications are mailed through (smtp://[user:password@]host:port, smtps:// for TLS); without it they are in-app only',
      protocols: ['smtp:', 'smtps:'],
      secret: true,
    }),
  ),
  NOTIFY_FROM: env.string({ description: 'The From address of notification mails', default: 'Folio <orders@folio.example>', maxLength: 320 }),
  NOTIFY_MAX_ATTEMPTS: env.int({ description: 'Attempts to mail a notification before it is marked failed', default: 10, min: 1, max: 100 }),
  NOTIFY_RETRY_BASE_MS: env.int({
    description: 'Pause after a failed mailing attempt, in milliseconds; it doubles with each further one',
    default: 1000,
    min: 10,
    max: 3_600_000,
  }),
  NOTIFY_RETRY_MAX_MS: env.int({ description: 'Longest pause between two mailing attempts, in milliseconds', default: 600_000, min: 10, max: 86_400_000 }),
  NOTIFY_RECIPIENT_WAIT_SECONDS: env.int({
    description: 'How long a notification waits for its order’s e-mail address (a payment event can arrive before order.created) before it is marked failed',
    default: 86_400,
    min: 1,
    max: 30 * 86_400,
  }),
  NOTIFY_SEND_INTERVAL_MS: env.int({ description: 'How often due notification mails are looked for, in milliseconds', default: 1000, min: 10, max: 60_000 }),
  STOREFRONT_URL: env.optional(
    env.url({
      description: 'Where readers see their orders (…/orders/<id>): notifications link there; without it they carry no link',
      protocols: ['http:', 'https:'],
    }),
  ),
};

/** Mails taken up per pass; a full batch makes the next pass start at once. */
const SEND_BATCH = 20;

/** smtp://host:port without credentials, for logs. */
const describeSmtpUrl = (url: string): string => {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || (u.protocol === 'smtps:' ? '465' : '587')}`;
};

export default defineService({
  name: 'notification',
  description: 'Tells readers what happened to their orders (paid, payment failed, cancelled, refunded): in the app, and by e-mail over SMTP.',
  migrations: folderOf(new URL('../migrations', import.meta.url)),
  config: notificationConfig,
  setup({ app, config, log, pool, metrics, lifecycle }) {
    if (!/@[^@\s>]+>?\s*$/.test(config.NOTIFY_FROM)) {
      throw new StartupError('notification', `NOTIFY_FROM must be an e-mail address, like "Folio <orders@folio.example>" (got "${config.NOTIFY_FROM}")`);
    }
    const notifications = createNotificationService({ pool, log, mail: config.SMTP_URL !== undefined, storefrontUrl: config.STOREFRONT_URL });
    registerNotificationRoutes(app, { notifications, verifier: verifierFromConfig(config) });
    const consumes = notificationEventHandlers(notifications);

    if (!config.SMTP_URL) {
      log.info('SMTP_URL is not set: notifications are in-app only');
      return { consumes };
    }
    const mailer = createMailer({ url: config.SMTP_URL, from: config.NOTIFY_FROM });
    lifecycle.onClose('notification mailer', () => mailer.close());
    const sender = createMailSender({
      pool,
      mailer,
      log,
      metrics,
      policy: {
        maxAttempts: config.NOTIFY_MAX_ATTEMPTS,
        baseDelayMs: config.NOTIFY_RETRY_BASE_MS,
        maxDelayMs: config.NOTIFY_RETRY_MAX_MS,
        recipientWaitMs: config.NOTIFY_RECIPIENT_WAIT_SECONDS * 1000,
      },
    });
    log.info({ smtp: describeSmtpUrl(config.SMTP_URL) }, 'notifications are mailed');
    return {
      consumes,
      jobs: [{ name: 'send-notification-mails', intervalMs: config.NOTIFY_SEND_INTERVAL_MS, batchSize: SEND_BATCH, run: () => sender.sendDue(SEND_BATCH) }],
    };
  },
});
