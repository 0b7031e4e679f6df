/**
 * The payment service: one payment per attempt to pay an order, each with a checkout session at the
 * payment gateway (Stripe's API, spoken by the simulator in development), its outcome learned from the
 * gateway's signed callbacks and, when those go missing, from reading the session (reconciliation).
 * At most one payment per order succeeds (the database enforces it); a second capture is refunded.
 */
import { authConfig, verifierFromConfig } from '@folio/platform/auth';
import { env, type VarSpec } from '@folio/platform/config';
import { defineService, folderOf } from '@folio/platform/service';
import { createStripeGateway } from './gateway.ts';
import { registerInternalRoutes } from './internal.routes.ts';
import { paymentJobs } from './payment.jobs.ts';
import { registerPaymentRoutes } from './payment.routes.ts';
import { createPaymentService } from './payment.service.ts';
import { registerWebhookRoutes } from './webhook.routes.ts';

/** Comma-separated webhook signing secrets: one, or two while the secret is rotated. */
const webhookSecrets: VarSpec<string[]> = {
  description: 'Webhook signing secrets of the gateway, comma-separated: one, or the old and the new one while rotating',
  secret: true,
  fallback: () => ['whsec_folio_dev'],
  parse(raw) {
    const secrets = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (secrets.length === 0 || secrets.length > 2) throw new Error('must name one secret, or two during a rotation');
    return secrets;
  },
};

export const paymentConfig = {
  ...authConfig,
  PAYMENT_GATEWAY_URL: env.url({
    description: 'Base URL of the payment gateway API (https://api.stripe.com live; the simulator in development)',
    protocols: ['http:', 'https:'],
    default: 'http://127.0.0.1:12111',
  }),
  PAYMENT_GATEWAY_API_KEY: env.string({ description: 'Secret API key of the payment gateway', default: 'sk_test_folio', secret: true, maxLength: 500 }),
  PAYMENT_WEBHOOK_SECRETS: webhookSecrets,
  PUBLIC_URL: env.url({
    description: 'Public base URL of the edge: the gateway sends readers back to its /api/payments/… URLs',
    protocols: ['http:', 'https:'],
    default: 'http://localhost:8080',
  }),
  STOREFRONT_URL: env.optional(
    env.url({ description: 'Where readers land after paying or cancelling (…/orders/<id>); default PUBLIC_URL', protocols: ['http:', 'https:'] }),
  ),
  PAYMENT_RECONCILE_AFTER_SECONDS: env.int({
    description: 'A pending payment this old has its session read at the gateway, in case a callback was missed',
    default: 60,
    min: 1,
    max: 86_400,
  }),
  PAYMENT_SWEEP_INTERVAL_MS: env.int({
    description: 'Pause between passes of the payment jobs (timeouts, reconciliation, retries)',
    default: 1000,
    min: 50,
    max: 60_000,
  }),
  GATEWAY_TIMEOUT_MS: env.int({ description: 'Timeout of one request to the payment gateway (the SDK retries twice)', default: 5000, min: 100, max: 80_000 }),
  GATEWAY_BREAKER_RESET_MS: env.int({
    description: 'How long the circuit breaker to the payment gateway stays open before a trial call',
    default: 10_000,
    min: 100,
    max: 300_000,
  }),
};

/** The SDK's retries: two, after 0.5 s and up to 1 s. */
const GATEWAY_RETRIES = 2;
const RETRY_BACKOFF_BUDGET_MS = 2_000;
/** A gateway call made while a caller waits: one attempt, at most this long. */
const QUICK_TIMEOUT_MS = 2_500;

export default defineService({
  name: 'payment',
  description: 'Payments of orders at the payment gateway: checkout sessions, signed callbacks, timeouts, reconciliation and refunds.',
  migrations: folderOf(new URL('../migrations', import.meta.url)),
  config: paymentConfig,
  async setup({ app, config, log, pool, outbox, metrics, lifecycle }) {
    const gateway = createStripeGateway({
      url: config.PAYMENT_GATEWAY_URL,
      apiKey: config.PAYMENT_GATEWAY_API_KEY,
      webhookSecrets: config.PAYMENT_WEBHOOK_SECRETS,
      timeoutMs: config.GATEWAY_TIMEOUT_MS,
      // The order service waits for POST /internal/payments (and gives it 5 s): the session is then left to the job.
      quickTimeoutMs: QUICK_TIMEOUT_MS,
      maxNetworkRetries: GATEWAY_RETRIES,
      breakerResetMs: config.GATEWAY_BREAKER_RESET_MS,
      log,
      metrics,
    });
    const service = createPaymentService({
      pool,
      outbox,
      gateway,
      log,
      publicUrl: config.PUBLIC_URL,
      storefrontUrl: config.STOREFRONT_URL ?? config.PUBLIC_URL,
      reconcileAfterSeconds: config.PAYMENT_RECONCILE_AFTER_SECONDS,
      gatewayCallBudgetMs: (GATEWAY_RETRIES + 1) * config.GATEWAY_TIMEOUT_MS + RETRY_BACKOFF_BUDGET_MS,
      retryDelayMs: Math.max(1000, 2 * config.PAYMENT_SWEEP_INTERVAL_MS),
    });
    // Closed before the pool (closers run in reverse): background gateway calls finish their database writes.
    lifecycle.onClose('payment gateway', async () => {
      await service.drain();
      gateway.close();
    });

    registerPaymentRoutes(app, { service, verifier: verifierFromConfig(config) });
    registerInternalRoutes(app, { service });
    await registerWebhookRoutes(app, { service, gateway });

    return { jobs: paymentJobs(service, config.PAYMENT_SWEEP_INTERVAL_MS) };
  },
});
