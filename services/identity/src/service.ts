/**
 * The identity service: accounts, sign-in (argon2id, throttled), access tokens signed with an
 * Ed25519 key kept in its own database and published as a JWKS, rotating refresh tokens, the
 * user's profile and saved addresses, and the administration of roles.
 *
 * It verifies its own access tokens with its own keys, so unlike the other services it does not
 * need IDENTITY_URL.
 */
import { authConfig } from '@folio/platform/auth';
import { env } from '@folio/platform/config';
import { defineService, folderOf } from '@folio/platform/service';
import { registerAddressRoutes } from './address.routes.ts';
import { createAddressService } from './address.service.ts';
import { registerAuthRoutes } from './auth.routes.ts';
import { createAuthService } from './auth.service.ts';
import { createLoginThrottle } from './throttle.ts';
import { createTokenService, KEY_RELOAD_INTERVAL_MS } from './token.service.ts';
import { registerUserRoutes } from './user.routes.ts';
import { createUserService } from './user.service.ts';

const SWEEP_BATCH = 1000;

export const identityConfig = {
  JWT_ISSUER: authConfig.JWT_ISSUER,
  JWT_AUDIENCE: authConfig.JWT_AUDIENCE,
  ACCESS_TOKEN_TTL_SECONDS: env.int({ description: 'Lifetime of an access token, in seconds', default: 900, min: 60, max: 86_400 }),
  REFRESH_TOKEN_TTL_SECONDS: env.int({
    description: 'Lifetime of a refresh token, in seconds (each refresh issues a new one)',
    default: 2_592_000,
    min: 300,
    max: 31_536_000,
  }),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: env.int({
    description: 'Failed sign-ins for one email within the window before further attempts answer 429',
    default: 5,
    min: 1,
    max: 1000,
  }),
  LOGIN_MAX_FAILURES_PER_ADDRESS: env.int({
    description: 'Failed sign-ins from one client address within the window before further attempts answer 429',
    default: 20,
    min: 1,
    max: 100_000,
  }),
  LOGIN_FAILURE_WINDOW_SECONDS: env.int({ description: 'Sliding window of the sign-in throttle, in seconds', default: 900, min: 1, max: 86_400 }),
};

export default defineService({
  name: 'identity',
  description: 'Accounts, sign-in, access and refresh tokens, profiles, saved addresses and roles',
  migrations: folderOf(new URL('../migrations', import.meta.url)),
  config: identityConfig,
  async setup({ app, pool, config, log }) {
    const tokens = await createTokenService({
      pool,
      log,
      settings: {
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
        refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      },
    });
    const throttle = createLoginThrottle(pool, {
      maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
      windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
    });
    const auth = await createAuthService({ pool, tokens, throttle, log, accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS });
    // This service's own routes are guarded by the same rules every other service applies, with its own keys in hand.
    const verifier = tokens.verifier;

    registerAuthRoutes(app, { auth, tokens });
    registerUserRoutes(app, { users: createUserService({ pool, log }), verifier });
    registerAddressRoutes(app, { addresses: createAddressService({ pool }), verifier });

    return {
      jobs: [
        { name: 'signing-keys-reload', intervalMs: KEY_RELOAD_INTERVAL_MS, run: async () => void (await tokens.reloadKeys()) },
        { name: 'login-failures-sweep', intervalMs: 60_000, batchSize: SWEEP_BATCH, run: () => throttle.sweep(SWEEP_BATCH) },
        { name: 'refresh-tokens-sweep', intervalMs: 3_600_000, batchSize: SWEEP_BATCH, run: () => tokens.deleteExpired(SWEEP_BATCH) },
      ],
    };
  },
});
