/**
 * The catalogue: the books the shop sells, their category tree, search, and their availability
 * as the inventory service reports it. Public reading; changes need the admin role.
 */
import { authConfig, verifierFromConfig } from '@folio/platform/auth';
import { env } from '@folio/platform/config';
import { defineService, folderOf } from '@folio/platform/service';
import { countBooks } from './book.repository.ts';
import { registerBookRoutes } from './book.routes.ts';
import { createBookService } from './book.service.ts';
import { registerCategoryRoutes } from './category.routes.ts';
import { createCategoryService } from './category.service.ts';
import { DEFAULT_SEED_BOOKS, seedCatalog } from './seed.ts';
import { stockChangedHandler } from './stock.events.ts';

export default defineService({
  name: 'catalog',
  description: 'Books, categories and search: what the shop sells',
  migrations: folderOf(new URL('../migrations', import.meta.url)),
  config: {
    ...authConfig,
    CATALOG_SEED_IF_EMPTY: env.bool({
      description: `Fill an empty catalogue with ${DEFAULT_SEED_BOOKS} demo books at start-up (npm start sets it)`,
      default: false,
    }),
  },
  async setup({ app, pool, log, config, outbox }) {
    // Before the routes serve traffic, so the first listing already shows the demo books.
    if (config.CATALOG_SEED_IF_EMPTY && (await countBooks(pool)) === 0) {
      await seedCatalog(pool, { books: DEFAULT_SEED_BOOKS, log: (line) => log.info(line), outbox });
    }
    const verifier = verifierFromConfig(config);
    const categories = createCategoryService({ pool });
    const books = createBookService({ pool, log, outbox, categories });
    registerCategoryRoutes(app, { categories });
    registerBookRoutes(app, { books, verifier });
    return { consumes: [stockChangedHandler(log)] };
  },
});
