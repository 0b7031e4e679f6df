/** What the order service's parts share: the database, the outbox, the upstream clients, the settings. */

import type { CatalogClient } from '@folio/contracts/catalog-client';
import type { ChangeListener } from '@folio/platform/change-listener';
import type { Pool } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import type { Outbox } from '@folio/platform/messaging/outbox';
import type { CartClient } from './clients/cart.client.ts';
import type { InventoryClient } from './clients/inventory.client.ts';
import type { PaymentClient } from './clients/payment.client.ts';
import type { ShippingClient } from './clients/shipping.client.ts';

export interface OrderSettings {
  paymentTimeoutSeconds: number;
  reservationMarginSeconds: number;
  refundWindowDays: number;
  deadlineGraceSeconds: number;
}

export interface OrderContext {
  pool: Pool;
  outbox: Outbox;
  log: Logger;
  cart: CartClient;
  catalog: CatalogClient;
  shipping: ShippingClient;
  inventory: InventoryClient;
  payment: PaymentClient;
  settings: OrderSettings;
  /** Wakes the saga driver: a step was just scheduled (call after the transaction committed). */
  nudge(): void;
  /** Tells a waiting reader that their order changed (NOTIFY order_changed, from any instance). */
  changes: ChangeListener;
}
