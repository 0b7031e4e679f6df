/**
 * The cart service: a reader's cart (signed in, or a guest with a cart token), prices recorded at add
 * and compared with the catalogue's on every answer, the guest cart merged into the account at sign-in,
 * and the cart cleared once its order is paid.
 *
 * Active carts live in Redis when REDIS_URL is set (distributed mode), else in PostgreSQL (embedded
 * mode); PostgreSQL keeps the history of every cart either way (active → abandoned | converted).
 */

import { createCatalogClient } from '@folio/contracts/catalog-client';
import { authConfig, verifierFromConfig } from '@folio/platform/auth';
import { env } from '@folio/platform/config';
import { defineService, folderOf, StartupError } from '@folio/platform/service';
import { Redis } from 'ioredis';
import { registerCartRoutes } from './cart.routes.ts';
import { createCartService } from './cart.service.ts';
import type { CartStore } from './cart.store.ts';
import { orderEventHandlers } from './order.events.ts';
import { createPgCartStore } from './pg-cart.store.ts';
import { createRedisCartStore } from './redis-cart.store.ts';

export const cartConfig = {
  ...authConfig,
  CATALOG_URL: env.url({ description: 'Base URL of the catalog service (titles and current prices of books)', protocols: ['http:', 'https:'] }),
  REDIS_URL: env.optional(
    env.url({
      protocols: ['redis:', 'rediss:'],
      description: 'Redis for active carts (distributed mode); without it carts live in PostgreSQL (embedded mode)',
    }),
  ),
  CART_TTL_SECONDS: env.int({ description: 'A cart expires this long after it was last read or changed', default: 1800, min: 1, max: 30 * 24 * 3600 }),
};

const SWEEP_BATCH = 200;

/** Redis as host:port, without credentials, for messages. */
const describeRedisUrl = (url: string): string => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '6379'}`;
};

export default defineService({
  name: 'cart',
  description: 'Readers’ carts: guest and signed-in carts, recorded and current prices, the guest cart merged at sign-in.',
  migrations: folderOf(new URL('../migrations', import.meta.url)),
  config: cartConfig,
  async setup({ app, config, log, pool, metrics, lifecycle }) {
    const ttlSeconds = config.CART_TTL_SECONDS;
    const catalog = createCatalogClient({ baseUrl: config.CATALOG_URL, log, metrics, caller: 'cart' });
    lifecycle.onClose('cart catalog client', () => catalog.close());

    let store: CartStore;
    if (config.REDIS_URL) {
      const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, connectTimeout: 3_000, lazyConnect: true });
      let lastError = '';
      redis.on('error', (err: Error) => {
        // ioredis reports every failed reconnect; say it once per kind of failure.
        if (err.message !== lastError) log.warn({ err, redis: describeRedisUrl(config.REDIS_URL!) }, 'Redis connection error');
        lastError = err.message;
      });
      redis.on('ready', () => {
        lastError = '';
      });
      lifecycle.onClose('cart redis', async () => {
        if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
        else redis.disconnect();
      });
      await redis.connect().catch((err: Error) => {
        throw new StartupError('cart', `cannot reach Redis at ${describeRedisUrl(config.REDIS_URL!)} (REDIS_URL): ${err.message}`, err);
      });
      store = createRedisCartStore({ redis, pool, ttlSeconds, log });
    } else {
      store = createPgCartStore({ pool, ttlSeconds });
    }
    log.info({ store: store.kind, ttlSeconds }, 'carts stored in %s', store.kind === 'redis' ? 'Redis' : 'PostgreSQL');

    const service = createCartService({ store, catalog, log });
    registerCartRoutes(app, { service, verifier: verifierFromConfig(config) });

    return {
      consumes: orderEventHandlers(service),
      jobs: [
        {
          name: 'abandon-expired-carts',
          // A quarter of the lifetime (between 0.5 s and a minute): an expired cart is marked within that much of its end.
          intervalMs: Math.min(60_000, Math.max(500, (ttlSeconds * 1000) / 4)),
          batchSize: SWEEP_BATCH,
          run: () => store.sweepExpired(SWEEP_BATCH),
        },
      ],
    };
  },
});
