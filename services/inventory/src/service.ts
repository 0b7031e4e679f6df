/**
 * The inventory: each book's stock, and the reservations that hold it for orders awaiting payment
 * (all or nothing, never oversold, released or expired when the order is not paid, confirmed when it
 * is). The catalogue's BookAdded opens a book's stock; StockChanged tells the catalogue what is available.
 */
import { authConfig, verifierFromConfig } from '@folio/platform/auth';
import { env } from '@folio/platform/config';
import { defineService, folderOf } from '@folio/platform/service';
import { registerInternalRoutes } from './internal.routes.ts';
import { inventoryEventHandlers } from './inventory.events.ts';
import { registerInventoryRoutes } from './inventory.routes.ts';
import { createReservationService } from './reservation.service.ts';
import { createStockService } from './stock.service.ts';

/** Reservations expired per sweep transaction; a full batch makes the next sweep start at once. */
const SWEEP_BATCH = 100;

export default defineService({
  name: 'inventory',
  description: 'Stock per book and reservations for orders: all or nothing, never oversold, released or expired when unpaid.',
  migrations: folderOf(new URL('../migrations', import.meta.url)),
  config: {
    ...authConfig,
    INVENTORY_INITIAL_STOCK: env.int({
      description: 'Copies a book starts with when the catalogue adds it (npm start sets 25)',
      default: 0,
      min: 0,
      max: 1_000_000,
    }),
    RESERVATION_SWEEP_INTERVAL_MS: env.int({
      description: 'How often reservations past their deadline are expired and their stock freed',
      default: 1000,
      min: 10,
      max: 3_600_000,
    }),
  },
  setup({ app, config, log, pool, outbox, metrics }) {
    const stock = createStockService({ pool, outbox, log, initialStock: config.INVENTORY_INITIAL_STOCK });
    const reservations = createReservationService({ pool, outbox, log, metrics });
    registerInternalRoutes(app, { reservations });
    registerInventoryRoutes(app, { stock, reservations, verifier: verifierFromConfig(config) });
    return {
      consumes: inventoryEventHandlers({ stock, reservations, log }),
      jobs: [
        {
          name: 'expire-reservations',
          intervalMs: config.RESERVATION_SWEEP_INTERVAL_MS,
          batchSize: SWEEP_BATCH,
          run: () => reservations.expireDue(SWEEP_BATCH),
        },
      ],
    };
  },
});
