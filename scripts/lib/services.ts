/**
 * The services the launchers start, in start order. A service joins the topology by adding
 * itself here; the gateway's route table (services/gateway/src/routes.ts) says which public
 * paths reach it.
 */
import { fileURLToPath } from 'node:url';
import type { VarSpec } from '@folio/platform/config';
import type { ServiceModule } from '@folio/platform/service';

export interface ServiceEntry {
  name: string;
  /** The module, for the embedded topology (all services in one process). */
  load: () => Promise<ServiceModule<Record<string, VarSpec<unknown>>>>;
  /** Its own process's entry point, for the distributed topology. */
  main: string;
}

const entry = (name: string): ServiceEntry => ({
  name,
  load: async () => (await import(`../../services/${name}/src/service.ts`)).default,
  main: fileURLToPath(new URL(`../../services/${name}/src/main.ts`, import.meta.url)),
});

export const services: ServiceEntry[] = [
  entry('identity'),
  entry('inventory'),
  entry('catalog'),
  entry('shipping'),
  entry('cart'),
  entry('payment'),
  entry('order'),
  entry('notification'),
];

/** Each service's database: database-per-service, on one server locally. */
export const databaseOf = (service: string, prefix = 'folio'): string => `${prefix}_${service}`;

/** The variable through which the others find a service, e.g. CATALOG_URL. */
export const urlVariableOf = (service: string): string => `${service.toUpperCase()}_URL`;
