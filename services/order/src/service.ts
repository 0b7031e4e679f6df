/**
 * The order service: places orders from the reader's cart and orchestrates the purchase as a saga —
 * reserve the stock (inventory), open the payment (payment), confirm the stock once paid, give the money
 * back when needed — with every order's state in its own database, so it carries on after any crash.
 *
 * Consumes the payment outcomes (payment.events.ts); publishes OrderCreated, OrderPaid, OrderCancelled
 * and OrderRefunded through the outbox. Jobs: the saga driver (pending remote steps), the payment window
 * sweeper, and the expiry of old Idempotency-Key records.
 */

import { createCatalogClient } from '@folio/contracts/catalog-client';
import { authConfig, verifierFromConfig } from '@folio/platform/auth';
import { ChangeListener } from '@folio/platform/change-listener';
import { env } from '@folio/platform/config';
import { defineService, folderOf } from '@folio/platform/service';
import { createCartClient } from './clients/cart.client.ts';
import { createInventoryClient } from './clients/inventory.client.ts';
import { createPaymentClient } from './clients/payment.client.ts';
import { createShippingClient } from './clients/shipping.client.ts';
import { deleteExpiredKeys } from './idempotency.ts';
import type { OrderContext } from './order.context.ts';
import { registerOrderRoutes } from './order.routes.ts';
import { createOrderService } from './order.service.ts';
import { paymentEventHandlers } from './payment.events.ts';
import { SAGA_BATCH, SagaDriver } from './saga.driver.ts';
import { SWEEP_BATCH, sweepPaymentWindows } from './window.sweeper.ts';

const upstream = (description: string) => env.url({ description, protocols: ['http:', 'https:'] });

export const orderConfig = {
  ...authConfig,
  CART_URL: upstream('Base URL of the cart service (the reader’s cart at checkout)'),
  CATALOG_URL: upstream('Base URL of the catalog service (current titles and prices of the books ordered)'),
  SHIPPING_URL: upstream('Base URL of the shipping service (address checks and shipping prices)'),
  INVENTORY_URL: upstream('Base URL of the inventory service (stock reservations)'),
  PAYMENT_URL: upstream('Base URL of the payment service (payment attempts and refunds)'),
  PAYMENT_TIMEOUT_SECONDS: env.int({ description: 'How long a reader has to pay for a new order, in seconds', default: 900, min: 1, max: 7 * 86_400 }),
  RESERVATION_MARGIN_SECONDS: env.int({
    description: 'How long a stock reservation outlives the payment window, in seconds (so it never lapses while the reader may still pay)',
    default: 120,
    min: 0,
    max: 86_400,
  }),
  REFUND_WINDOW_DAYS: env.int({ description: 'A paid order can be taken back (refunded) this many days after payment', default: 14, min: 0, max: 365 }),
  SAGA_INTERVAL_MS: env.int({
    description: 'How often the saga driver looks for due steps, in milliseconds (it also runs at once when a step is scheduled)',
    default: 250,
    min: 10,
    max: 60_000,
  }),
  PAYMENT_DEADLINE_GRACE_SECONDS: env.int({
    description: 'An unpaid order with no payment attempt pending is cancelled this many seconds after its payment deadline',
    default: 30,
    min: 0,
    max: 86_400,
  }),
  WINDOW_SWEEP_INTERVAL_MS: env.int({
    description: 'How often unpaid orders past their payment window are looked for, in milliseconds',
    default: 5_000,
    min: 50,
    max: 600_000,
  }),
};

/** Finished Idempotency-Key records are kept this long (as Stripe does). */
const IDEMPOTENCY_KEY_HOURS = 24;

export default defineService({
  name: 'order',
  description: 'Orders: checkout from the cart, the payment window, refunds; the purchase saga between inventory and payment',
  migrations: folderOf(new URL('../migrations', import.meta.url)),
  config: orderConfig,
  async setup({ app, config, log, pool, outbox, metrics, lifecycle }) {
    const clientDeps = (baseUrl: string) => ({ baseUrl, log, metrics });
    const cart = createCartClient(clientDeps(config.CART_URL));
    const catalog = createCatalogClient({ ...clientDeps(config.CATALOG_URL), caller: 'order service' });
    const shipping = createShippingClient(clientDeps(config.SHIPPING_URL));
    const inventory = createInventoryClient(clientDeps(config.INVENTORY_URL));
    const payment = createPaymentClient(clientDeps(config.PAYMENT_URL));
    lifecycle.onClose('order upstream clients', async () => {
      await Promise.all([cart.close(), catalog.close(), shipping.close(), inventory.close(), payment.close()]);
    });

    const changes = new ChangeListener({ databaseUrl: config.DATABASE_URL, channel: 'order_changed', log });
    await changes.start();
    lifecycle.onClose('order change listener', () => changes.close());

    const ctx: OrderContext = {
      changes,
      pool,
      outbox,
      log,
      cart,
      catalog,
      shipping,
      inventory,
      payment,
      settings: {
        paymentTimeoutSeconds: config.PAYMENT_TIMEOUT_SECONDS,
        reservationMarginSeconds: config.RESERVATION_MARGIN_SECONDS,
        refundWindowDays: config.REFUND_WINDOW_DAYS,
        deadlineGraceSeconds: config.PAYMENT_DEADLINE_GRACE_SECONDS,
      },
      nudge: () => driver.nudge(),
    };
    const driver = new SagaDriver(() => ctx);
    // Registered after the clients, so it stops (and its pass in flight ends) before they close.
    lifecycle.onClose('order saga driver', () => driver.stop());

    registerOrderRoutes(app, { orders: createOrderService(ctx), verifier: verifierFromConfig(config) });

    return {
      consumes: paymentEventHandlers(ctx),
      jobs: [
        { name: 'order-saga-driver', intervalMs: config.SAGA_INTERVAL_MS, batchSize: SAGA_BATCH, run: () => driver.runOnce() },
        { name: 'order-payment-window', intervalMs: config.WINDOW_SWEEP_INTERVAL_MS, batchSize: SWEEP_BATCH, run: () => sweepPaymentWindows(ctx) },
        { name: 'order-idempotency-keys', intervalMs: 600_000, batchSize: 500, run: () => deleteExpiredKeys(pool, IDEMPOTENCY_KEY_HOURS, 500) },
      ],
    };
  },
});
