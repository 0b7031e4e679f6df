/**
 * `npm start`: the whole of Folio in one process on an embedded PostgreSQL, nothing to set up.
 *   PORT (8080)  FOLIO_DATA_DIR (.data)  FOLIO_EMBEDDED_PG_PORT (54329)  LOG_LEVEL (warn)
 */
import { runMain } from '@folio/platform/service';
import { startEmbedded } from './lib/embedded.ts';

await runMain(async () => {
  const topology = await startEmbedded({
    dataDir: process.env.FOLIO_DATA_DIR ?? '.data',
    postgresPort: Number(process.env.FOLIO_EMBEDDED_PG_PORT ?? 54329),
    gatewayPort: Number(process.env.PORT ?? 8080),
    logLevel: process.env.LOG_LEVEL ?? 'warn',
    // A newcomer sees books at once: an empty catalogue fills itself with the deterministic seed.
    env: { CATALOG_SEED_IF_EMPTY: 'true', INVENTORY_INITIAL_STOCK: '25' },
  });
  const gateway = topology.gatewayUrl.replace('127.0.0.1', 'localhost');
  process.stdout.write(
    [
      '',
      `  Folio is running at ${gateway}`,
      `    shop:     ${gateway}/`,
      `    health:   ${gateway}/health`,
      `    services: ${Object.keys(topology.services).join(', ') || '(none yet)'}`,
      `    data:     ${process.env.FOLIO_DATA_DIR ?? '.data'} (embedded PostgreSQL on ${new URL(topology.postgresUrl).port})`,
      '  Ctrl-C stops it; data is kept for the next start.',
      '',
      '',
    ].join('\n'),
  );
  return { name: 'folio', url: topology.gatewayUrl, lifecycle: topology.lifecycle, close: () => topology.lifecycle.close() };
});
