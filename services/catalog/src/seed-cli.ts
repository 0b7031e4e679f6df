/**
 * Seeds the demo catalogue into a database (applying the catalogue's migrations first):
 *   node services/catalog/src/seed-cli.ts [--books N]
 * DATABASE_URL names the database; by default the one `npm start` uses on its embedded PostgreSQL.
 */
import { parseArgs } from 'node:util';
import { checkDatabase, createPool, describeDatabaseUrl, migrate } from '@folio/platform/db';
import { messagingMigrations } from '@folio/platform/messaging/outbox';
import { DEFAULT_SEED_BOOKS, seedCatalog } from './seed.ts';
import catalog from './service.ts';

const usage = 'usage: node services/catalog/src/seed-cli.ts [--books N]   (DATABASE_URL selects the database)';

let books = DEFAULT_SEED_BOOKS;
try {
  const { values } = parseArgs({ options: { books: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  if (values.books !== undefined) {
    if (!/^\d{1,7}$/.test(values.books)) throw new Error(`--books must be a whole number up to 9999999, got "${values.books}"`);
    books = Number(values.books);
  }
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${usage}\n`);
  process.exit(2);
}

const url = process.env.DATABASE_URL || `postgres://postgres:postgres@127.0.0.1:${process.env.FOLIO_EMBEDDED_PG_PORT || 54329}/folio_catalog`;
const pool = createPool(url, { name: 'catalog-seed', max: 2 });
try {
  await checkDatabase(pool, url);
  // The same folders, in the same order, as the service applies: the schema is identical either way.
  await migrate(pool, [messagingMigrations, catalog.migrations!]);
  process.stdout.write(`seeding ${books} books into ${describeDatabaseUrl(url)}\n`);
  await seedCatalog(pool, { books, log: (line) => process.stdout.write(`${line}\n`) });
} catch (err) {
  process.stderr.write(`catalog seed failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
