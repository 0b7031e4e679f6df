/**
 * `npm run audit`: reads every service's database and checks that they agree (scripts/lib/audit/).
 * Prints a report with a line per check, the ids of any offender, and exits 0 when consistent,
 * 1 on a violation, 2 when a database cannot be read.
 *
 *   npm run audit -- [--pg <admin url>] [--prefix folio] [--grace 60] [--json]
 *
 * Databases are `<prefix>_<service>` on the --pg server (default PG_ADMIN_URL, else the local server);
 * AUDIT_<SERVICE>_DATABASE_URL points one service elsewhere (e.g. AUDIT_PAYMENT_DATABASE_URL).
 * Against `npm start`'s embedded PostgreSQL: --pg postgres://postgres@127.0.0.1:54329/postgres.
 */
import { parseArgs } from 'node:util';
import { withDatabase } from '@folio/platform/db';
import { AuditDatabaseError, DEFAULT_GRACE_SECONDS, runAudit } from './lib/audit/audit.ts';
import { formatReport } from './lib/audit/report.ts';
import { databaseOf } from './lib/services.ts';

const USAGE = `usage: npm run audit -- [--pg <admin url>] [--prefix <p>] [--grace <seconds>] [--json]
  --pg      PostgreSQL server holding the services' databases (default PG_ADMIN_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --prefix  database name prefix: <prefix>_<service> (default folio)
  --grace   seconds a change may be in flight before its effects are expected (default ${DEFAULT_GRACE_SECONDS})
  --json    print the report as JSON
  AUDIT_<SERVICE>_DATABASE_URL overrides one service's database (ORDER, PAYMENT, INVENTORY, CART, NOTIFICATION).
Exit status: 0 consistent, 1 a violation, 2 a database could not be read or bad arguments.`;

function fail(message: string): never {
  process.stderr.write(`audit: ${message}\n${USAGE}\n`);
  process.exit(2);
}

let values: { pg?: string; prefix?: string; grace?: string; json?: boolean; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      pg: { type: 'string' },
      prefix: { type: 'string' },
      grace: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const adminUrl = values.pg ?? process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const prefix = values.prefix ?? 'folio';
if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) fail(`--prefix ${prefix} is not a database name prefix (lower-case letters, digits, _)`);
const grace = values.grace === undefined ? DEFAULT_GRACE_SECONDS : Number(values.grace);
if (!Number.isFinite(grace) || grace < 0) fail(`--grace ${values.grace} is not a number of seconds ≥ 0`);
try {
  new URL(adminUrl);
} catch {
  fail(`--pg ${adminUrl} is not a PostgreSQL URL`);
}

const databaseUrl = (service: string): string =>
  process.env[`AUDIT_${service.toUpperCase()}_DATABASE_URL`] || withDatabase(adminUrl, databaseOf(service, prefix));

try {
  const report = await runAudit({ databaseUrl, graceSeconds: grace });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  process.exitCode = report.ok ? 0 : 1;
} catch (err) {
  // Exit 1 means "inconsistent": anything that kept the audit from judging is 2.
  process.stderr.write(
    err instanceof AuditDatabaseError ? `audit: cannot audit: the ${err.message}\n` : `audit: failed: ${(err as Error)?.stack ?? String(err)}\n`,
  );
  process.exitCode = 2;
}
