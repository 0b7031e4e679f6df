/**
 * The simulator as its own process: `node payment-gateway-simulator/src/main.ts`. Configuration comes from
 * the environment, validated at start-up (a bad variable stops it with exit 1 and names the variable).
 * Importing this module starts nothing: it exports `simulatorConfig` for the README's configuration table.
 */
import { type ConfigOf, env, loadConfig, type VarSpec } from '@folio/platform/config';
import { Lifecycle } from '@folio/platform/lifecycle';
import { createLogger } from '@folio/platform/log';
import { LOG_LEVELS, type RunningService, runMain, StartupError } from '@folio/platform/service';
import { startSimulator } from './simulator.ts';

const NAME = 'payment-gateway-simulator';

/** A probability, written 0–1. */
function rate(opts: { description: string; default: number }): VarSpec<number> {
  return {
    description: opts.description,
    parse(raw) {
      if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(raw)) throw new Error('must be a number from 0 to 1, e.g. 0.8');
      return Number(raw);
    },
    fallback: () => opts.default,
  };
}

export const simulatorConfig = {
  PORT: env.port({ description: 'HTTP port of the payment gateway simulator (0 picks a free one)', default: 12111 }),
  HOST: env.string({ description: 'Interface the payment gateway simulator listens on', default: '127.0.0.1' }),
  PUBLIC_URL: env.optional(
    env.url({ description: 'Base URL of the hosted payment pages as browsers reach them (default http://127.0.0.1:PORT)', protocols: ['http:', 'https:'] }),
  ),
  SIMULATOR_API_KEY: env.string({
    description: 'The secret key Stripe clients must send (Authorization: Bearer …)',
    default: 'sk_test_folio',
    secret: true,
    maxLength: 255,
  }),
  WEBHOOK_URL: env.optional(env.url({ description: 'Where events are POSTed, signed; without it events are only recorded', protocols: ['http:', 'https:'] })),
  WEBHOOK_SECRET: env.string({
    description: 'The webhook signing secret (Stripe-Signature, HMAC-SHA256)',
    default: 'whsec_folio_dev',
    secret: true,
    maxLength: 255,
  }),
  OUTCOME_MODE: env.oneOf(['cards', 'random'] as const, {
    description: "cards: Stripe's test card numbers decide each payment; random: a seeded draw does",
    default: 'cards',
  }),
  RANDOM_SUCCESS_RATE: rate({ description: 'random mode: the probability that a valid card is accepted', default: 0.8 }),
  RANDOM_SEED: env.int({
    description: 'random mode: seed of the outcome sequence (the same seed gives the same outcomes)',
    default: 42,
    min: 0,
    max: 4_294_967_295,
  }),
  WEBHOOK_MAX_ATTEMPTS: env.int({ description: 'Delivery attempts per event before giving up, the first included', default: 8, min: 1, max: 100 }),
  WEBHOOK_BASE_DELAY_MS: env.int({
    description: 'Wait after a failed delivery, doubled after each further failure (with jitter)',
    default: 500,
    min: 1,
    max: 3_600_000,
  }),
  LOG_LEVEL: env.oneOf(LOG_LEVELS, { description: 'Log level', default: 'info' }),
} satisfies Record<string, VarSpec<unknown>>;

export type SimulatorConfig = ConfigOf<typeof simulatorConfig>;

export async function start(environment: Record<string, string | undefined> = process.env): Promise<RunningService> {
  let config: SimulatorConfig;
  try {
    config = loadConfig(simulatorConfig, environment);
  } catch (err) {
    throw new StartupError(NAME, (err as Error).message, err);
  }
  const log = createLogger({ name: NAME, level: config.LOG_LEVEL });
  const simulator = await startSimulator({
    port: config.PORT,
    host: config.HOST,
    ...(config.PUBLIC_URL ? { publicUrl: config.PUBLIC_URL } : {}),
    apiKey: config.SIMULATOR_API_KEY,
    ...(config.WEBHOOK_URL ? { webhookUrl: config.WEBHOOK_URL } : {}),
    webhookSecret: config.WEBHOOK_SECRET,
    outcomeMode: config.OUTCOME_MODE,
    randomSuccessRate: config.RANDOM_SUCCESS_RATE,
    randomSeed: config.RANDOM_SEED,
    webhookMaxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    webhookBaseDelayMs: config.WEBHOOK_BASE_DELAY_MS,
    log,
  }).catch((err: Error) => {
    throw new StartupError(NAME, `${err.message}${(err as { code?: string }).code === 'EADDRINUSE' ? ' (PORT)' : ''}`, err);
  });
  const lifecycle = new Lifecycle(log);
  lifecycle.onClose('payment gateway simulator', () => simulator.close());
  return { name: NAME, url: simulator.url, lifecycle, close: () => lifecycle.close() };
}

if (import.meta.main) await runMain(() => start());
