/**
 * The shipping service: shipping options and prices by destination, quotes for the order service,
 * and delivery-address checks. Prices live in the rate table (migrations/0001_shipping.sql) so an
 * operator changes them with data, not a deploy; the free-shipping threshold is configuration.
 */
import { env } from '@folio/platform/config';
import { defineService, folderOf } from '@folio/platform/service';
import { shippingRoutes } from './shipping.routes.ts';
import { MAX_SUBTOTAL_MINOR } from './shipping.schemas.ts';
import { createShippingService } from './shipping.service.ts';

export default defineService({
  name: 'shipping',
  description: 'Shipping options, prices and delivery estimates by destination, and delivery-address checks',
  migrations: folderOf(new URL('../migrations', import.meta.url)),
  config: {
    SHIPPING_FREE_THRESHOLD_MINOR: env.int({
      description: 'Order subtotal in EUR cents from which shipping rates marked free-shipping-eligible (domestic standard) cost nothing',
      default: 5000,
      min: 0,
      max: MAX_SUBTOTAL_MINOR,
    }),
  },
  setup({ app, pool, config }) {
    const shipping = createShippingService({ db: pool, freeShippingThresholdMinor: config.SHIPPING_FREE_THRESHOLD_MINOR });
    shippingRoutes(app, shipping);
    return {};
  },
});
