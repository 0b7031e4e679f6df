/**
 * The embedded topology behind `npm start`: an embedded PostgreSQL (data kept in a folder),
 * one in-process event bus fed by the services' outboxes, every service in this process on
 * its own database, and the edge gateway in front.
 */
import { join } from 'node:path';
import { startGateway } from '@folio/gateway/gateway';
import { startSimulator } from '@folio/payment-gateway-simulator/simulator';
import { ensureDatabase, withDatabase } from '@folio/platform/db';
import { startEmbeddedPostgres } from '@folio/platform/embedded-postgres';
import { Lifecycle } from '@folio/platform/lifecycle';
import { createLogger } from '@folio/platform/log';
import { EmbeddedTransport } from '@folio/platform/messaging/embedded-transport';
import { startService } from '@folio/platform/service';
import { freePort } from './ports.ts';
import { databaseOf, services as registry, type ServiceEntry, urlVariableOf } from './services.ts';

export interface EmbeddedOptions {
  dataDir: string;
  postgresPort: number;
  gatewayPort: number;
  logLevel: string;
  services?: ServiceEntry[];
  /** Extra variables for every service (e.g. a short payment window in tests). */
  env?: Record<string, string>;
  /** Extra variables for the gateway only, e.g. `{ RATE_LIMIT_MAX: '0' }` for load that comes from one address. */
  gatewayEnv?: Record<string, string>;
}

export interface EmbeddedTopology {
  gatewayUrl: string;
  postgresUrl: string;
  services: Record<string, string>;
  lifecycle: Lifecycle;
}

export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedTopology> {
  const log = createLogger({ name: 'folio', level: opts.logLevel });
  const lifecycle = new Lifecycle(log);
  const entries = opts.services ?? registry;
  try {
    const postgres = await startEmbeddedPostgres({ dataDir: join(opts.dataDir, 'postgres'), port: opts.postgresPort, log: (line) => log.info(line) });
    lifecycle.onClose('embedded postgres', () => postgres.stop());
    // Held until every service has subscribed: this bus keeps no history, so an event published at
    // start-up (the catalogue's seed announcing its books) must wait for its consumers to exist.
    const bus = new EmbeddedTransport({ held: true });
    lifecycle.onClose('event bus', () => bus.close());

    // Every service learns every other's URL up front, so start order does not matter.
    const ports = await Promise.all(entries.map(() => freePort()));
    const urls: Record<string, string> = Object.fromEntries(entries.map((s, i) => [urlVariableOf(s.name), `http://127.0.0.1:${ports[i]}`]));
    // The payment gateway stands in for Stripe on a port of its own and calls back through the edge, as Stripe would.
    const edge = `http://localhost:${opts.gatewayPort}`;
    let gatewayEnv: Record<string, string> = {};
    if (entries.some((e) => e.name === 'payment')) {
      const simulator = await startSimulator({ port: await freePort(), webhookUrl: `${edge}/api/payments/webhook`, logLevel: opts.logLevel });
      lifecycle.onClose('payment gateway simulator', () => simulator.close());
      gatewayEnv = { PAYMENT_GATEWAY_URL: simulator.url, PUBLIC_URL: edge };
    }
    // The storefront is served by the edge: payment redirects and notification links point there.
    const common = { ...process.env, ...urls, ...gatewayEnv, STOREFRONT_URL: edge, LOG_LEVEL: opts.logLevel, ...opts.env } as Record<string, string>;

    const started: Record<string, string> = {};
    for (const [i, entry] of entries.entries()) {
      const database = databaseOf(entry.name);
      await ensureDatabase(postgres.url, database);
      const running = await startService(await entry.load(), {
        env: { ...common, DATABASE_URL: withDatabase(postgres.url, database), PORT: String(ports[i]) },
        transport: bus,
        lifecycle,
      });
      started[entry.name] = running.url;
    }
    bus.open();
    // Like the cart, the gateway uses Redis only when REDIS_URL is in the environment; else it counts rate limits in memory.
    const gateway = await startGateway({ env: { ...common, PORT: String(opts.gatewayPort), ...opts.gatewayEnv }, lifecycle });
    return { gatewayUrl: gateway.url, postgresUrl: postgres.url, services: started, lifecycle };
  } catch (err) {
    await lifecycle.close('start-up failed');
    throw err;
  }
}
