/**
 * Promotes an existing account to admin: how the first admin comes to be.
 *
 *   node services/identity/src/make-admin.ts <email>
 *
 * Register the account first (POST /api/auth/register), then run this. It connects to DATABASE_URL
 * (the identity service's own database) or, when that is unset, to the database of the embedded
 * `npm start` topology: postgres://postgres:postgres@127.0.0.1:${FOLIO_EMBEDDED_PG_PORT:-54329}/folio_identity.
 * The user keeps their other roles; the new role shows in the access tokens issued from now on
 * (sign in again, or refresh). Exits 1, saying why, for an unknown email or an unreachable database.
 * Running it again for an admin changes nothing.
 */
import { createPool, describeDatabaseUrl } from '@folio/platform/db';
import { promoteToAdmin } from './user.repository.ts';

const UNDEFINED_TABLE = '42P01';

function databaseUrl(): string {
  const configured = process.env.DATABASE_URL?.trim();
  if (configured) return configured;
  const port = process.env.FOLIO_EMBEDDED_PG_PORT?.trim() || '54329';
  return `postgres://postgres:postgres@127.0.0.1:${port}/folio_identity`;
}

function fail(message: string): never {
  process.stderr.write(`make-admin: ${message}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
const email = args[0]?.trim().toLowerCase();
if (args.length !== 1 || !email) fail('usage: node services/identity/src/make-admin.ts <email>');

const url = databaseUrl();
let where: string;
try {
  where = describeDatabaseUrl(url);
} catch {
  fail('DATABASE_URL is not a valid postgres:// URL');
}
const pool = createPool(url, { name: 'identity-make-admin', max: 1 });
try {
  const result = await promoteToAdmin(pool, email).catch((err: { code?: string; message?: string }) => {
    if (err.code === UNDEFINED_TABLE) fail(`the database ${where} has no accounts yet: start the identity service once (it creates its tables), then register`);
    const hint = process.env.DATABASE_URL?.trim() ? '' : ' (is `npm start` running? Otherwise set DATABASE_URL to the identity database)';
    fail(`cannot use the identity database at ${where}: ${err.message ?? String(err)}${hint}`);
  });
  if (!result) fail(`there is no account with the email ${email} in ${where}; register it first (POST /api/auth/register)`);
  const { user, alreadyAdmin } = result;
  process.stdout.write(
    alreadyAdmin
      ? `${user.email} (${user.id}) is already an admin; nothing changed. Roles: ${user.roles.join(', ')}.\n`
      : `Promoted ${user.email} (${user.id}) to admin in ${where}. Roles: ${user.roles.join(', ')}. Sign in again to get a token with the new role.\n`,
  );
} finally {
  await pool.end();
}
