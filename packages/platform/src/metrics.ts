import { collectDefaultMetrics, Registry } from 'prom-client';

export type { Registry } from 'prom-client';

/**
 * A Prometheus registry of the service's own: every series carries `service="<name>"`,
 * and the default process metrics (CPU, memory, event-loop lag, GC, handles) are
 * collected into it. One registry per service (not prom-client's global one) lets
 * several services share a process, as the embedded launcher and tests do.
 */
export function createMetrics(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
