/**
 * Every configuration variable, from the same specs that validate them at start-up, so the
 * README table cannot drift from the code (scripts/readme.test.ts checks it).
 */

import { gatewayConfig } from '@folio/gateway/gateway';
import { simulatorConfig } from '@folio/payment-gateway-simulator/main';
import type { VarSpec } from '@folio/platform/config';
import { serviceConfig } from '@folio/platform/service';
import { services } from './services.ts';

export interface VariableDoc {
  name: string;
  usedBy: string;
  default: string;
  description: string;
}

const fromSpecs = (usedBy: string, specs: Record<string, VarSpec<unknown>>): VariableDoc[] =>
  Object.entries(specs).map(([name, spec]) => {
    const fallback = spec.fallback?.();
    return { name, usedBy, default: fallback === undefined ? (spec.fallback ? '—' : 'required') : String(fallback), description: spec.description };
  });

/** Read by the launchers and the test runner rather than by a service. */
const launcherVariables: VariableDoc[] = [
  { name: 'FOLIO_DATA_DIR', usedBy: 'npm start', default: '.data', description: 'Where the embedded PostgreSQL keeps its data' },
  { name: 'FOLIO_EMBEDDED_PG_PORT', usedBy: 'npm start', default: '54329', description: 'Port of the embedded PostgreSQL' },
  {
    name: 'PG_ADMIN_URL',
    usedBy: 'start:distributed, npm test',
    default: 'postgres://postgres@127.0.0.1:5432/postgres',
    description: 'A PostgreSQL server where a database per service is created',
  },
  { name: 'REDIS_URL', usedBy: 'start:distributed, npm test', default: 'redis://127.0.0.1:6379', description: 'Redis (active carts, rate limits)' },
  {
    name: 'FOLIO_REQUIRE_INFRA',
    usedBy: 'npm test',
    default: '—',
    description: '1 makes a missing PostgreSQL, Redis or Kafka a test failure instead of a skip (CI sets it)',
  },
  { name: 'FOLIO_TEST_EMBEDDED_PG_PORT', usedBy: 'npm test', default: '54330', description: 'Port of the embedded PostgreSQL started when no server is found' },
];

export async function allVariables(): Promise<VariableDoc[]> {
  const common = fromSpecs('every service', serviceConfig);
  // A variable several services read (IDENTITY_URL, …) is one row naming them all.
  const own = new Map<string, VariableDoc>();
  for (const entry of services) {
    const module = await entry.load();
    for (const doc of fromSpecs(entry.name, module.config ?? {})) {
      if (common.some((c) => c.name === doc.name)) continue;
      const seen = own.get(doc.name);
      own.set(doc.name, seen ? { ...seen, usedBy: `${seen.usedBy}, ${entry.name}` } : doc);
    }
  }
  const gateway = fromSpecs('gateway', gatewayConfig).filter((g) => !common.some((s) => s.name === g.name && s.default === g.default));
  return [...common, ...own.values(), ...gateway, ...fromSpecs('payment-gateway-simulator', simulatorConfig), ...launcherVariables];
}

export async function markdownTable(): Promise<string> {
  const rows = (await allVariables()).map(
    (v) => `| \`${v.name}\` | ${v.usedBy} | ${v.default === 'required' || v.default === '—' ? v.default : `\`${v.default}\``} | ${v.description} |`,
  );
  return ['| Variable | Used by | Default | What it is |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Rewrites the table between the README's config-table markers. */
export async function updateReadme(path: string): Promise<void> {
  const { readFile, writeFile } = await import('node:fs/promises');
  const readme = await readFile(path, 'utf8');
  const updated = readme.replace(/(<!-- config-table:start[^>]*-->\n)[\s\S]*?(\n<!-- config-table:end -->)/, `$1${await markdownTable()}$2`);
  await writeFile(path, updated);
}

if (import.meta.url === `file://${process.argv[1]}`) await updateReadme(new URL('../../README.md', import.meta.url).pathname);
