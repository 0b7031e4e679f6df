/**
 * The service runtime: turns a service module (its routes, migrations, the events it consumes
 * and its background jobs) into a running service with its own database, outbox relay, event
 * consumer, HTTP server and graceful shutdown. The same code runs a service as its own process
 * (main.ts, on Kafka) and all services in one process (the embedded launcher, on one shared bus).
 */
import { fileURLToPath } from 'node:url';
import { ConfigError, type ConfigOf, type Env, env, loadConfig, type VarSpec } from './config.ts';
import { checkDatabase, createPool, describeDatabaseUrl, migrate, type Pool } from './db.ts';
import { type App, closeWithLifecycle, createServer, listen } from './http.ts';
import { type Job, JobRunner } from './jobs.ts';
import { Lifecycle } from './lifecycle.ts';
import { createLogger, type Logger } from './log.ts';
import { EventConsumer, type HandlerBinding } from './messaging/consumer.ts';
import { KafkaTransport } from './messaging/kafka-transport.ts';
import { messagingMigrations, Outbox } from './messaging/outbox.ts';
import { OutboxRelay } from './messaging/relay.ts';
import type { Transport } from './messaging/transport.ts';
import { createMetrics, type Registry } from './metrics.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Variables every service reads. */
export const serviceConfig = {
  PORT: env.port({ description: 'HTTP port of the service (0 picks a free one)', default: 0 }),
  HOST: env.string({ description: 'Interface the service listens on', default: '127.0.0.1' }),
  DATABASE_URL: env.url({ description: "The service's own PostgreSQL database", protocols: ['postgres:', 'postgresql:'] }),
  DATABASE_POOL_SIZE: env.int({ description: 'Connections in the service’s pool', default: 10, min: 1, max: 200 }),
  KAFKA_BROKERS: env.optional(env.hostPorts({ description: 'Kafka bootstrap servers, comma-separated (required when a service runs as its own process)' })),
  KAFKA_PARTITIONS: env.int({ description: 'Partitions of the topics a service creates', default: 6, min: 1, max: 256 }),
  KAFKA_NAMESPACE: env.string({
    description: 'Prefix of every topic and consumer group, so deployments or test runs sharing one Kafka cluster never consume each other’s events',
    default: '',
    maxLength: 100,
    pattern: { regex: /^[A-Za-z0-9_-]*$/, says: 'letters, digits, _ and - only' },
  }),
  KAFKA_INSTANCE_ID: env.optional(
    env.string({
      description:
        'A stable name of this instance, unique among the running ones (a pod name, order-1): its consumer groups know it across restarts, so a restarted instance takes its partitions back at once instead of after the session timeout. Unset: it joins as a new member each time',
      maxLength: 100,
      pattern: { regex: /^[A-Za-z0-9._-]+$/, says: 'letters, digits, ., _ and - only' },
    }),
  ),
  LOG_LEVEL: env.oneOf(LOG_LEVELS, { description: 'Log level', default: 'info' }),
};
export type ServiceConfig = ConfigOf<typeof serviceConfig>;

export interface ServiceContext<C> {
  name: string;
  config: ServiceConfig & C;
  log: Logger;
  pool: Pool;
  outbox: Outbox;
  transport: Transport;
  metrics: Registry;
  app: App;
  lifecycle: Lifecycle;
}

/** What a service adds besides its routes. */
export interface ServiceParts {
  /** The events it consumes, each applied once in a transaction with its inbox record. */
  consumes?: HandlerBinding[];
  /** Background jobs (sweepers), run by every instance. */
  jobs?: Job[];
}

export interface ServiceModule<S extends Record<string, VarSpec<unknown>> = Record<string, never>> {
  name: string;
  description: string;
  /** Folder of the service's *.sql migrations, applied after the platform's (outbox, inbox). */
  migrations?: string;
  /** Variables of its own, besides serviceConfig. */
  config?: S;
  /** Registers routes on ctx.app and returns what else the service runs. */
  setup(ctx: ServiceContext<ConfigOf<S>>): Promise<ServiceParts | undefined> | ServiceParts | undefined;
}

export function defineService<S extends Record<string, VarSpec<unknown>> = Record<string, never>>(module: ServiceModule<S>): ServiceModule<S> {
  return module;
}

/** A folder next to the calling module, as a path (for `migrations`). */
export const folderOf = (url: string | URL): string => fileURLToPath(url);

export interface StartOptions {
  env?: Env;
  /** A bus shared by the services of one process (embedded mode); otherwise Kafka from KAFKA_BROKERS. */
  transport?: Transport;
  /** A lifecycle shared by the services of one process; otherwise the service gets its own. */
  lifecycle?: Lifecycle;
}

export interface RunningService {
  name: string;
  url: string;
  lifecycle: Lifecycle;
  close(): Promise<void>;
}

export class StartupError extends Error {
  constructor(service: string, message: string, cause?: unknown) {
    super(`${service} cannot start: ${message}`, { cause });
    this.name = 'StartupError';
  }
}

const BROKER_CHECK_TIMEOUT_MS = 3_000;

/**
 * Kafka for a service of its own process. An unreachable broker does not stop the start: the service
 * serves what it can, its outbox keeps the events, its consumers join when the broker is back, and
 * /ready says not ready until then.
 */
function connectKafka(name: string, config: ServiceConfig, log: Logger, metrics: Registry, lifecycle: Lifecycle): Transport {
  if (!config.KAFKA_BROKERS) throw new StartupError(name, 'KAFKA_BROKERS is required when a service runs as its own process');
  const kafka = new KafkaTransport({
    brokers: config.KAFKA_BROKERS,
    clientId: `folio-${name}`,
    log,
    metrics,
    partitions: config.KAFKA_PARTITIONS,
    namespace: config.KAFKA_NAMESPACE,
    ...(config.KAFKA_INSTANCE_ID ? { instanceId: config.KAFKA_INSTANCE_ID } : {}),
  });
  lifecycle.onClose(`${name} kafka`, () => kafka.close());
  // Only to say so at once in the log; nothing waits for it.
  void withTimeout(kafka.check(), BROKER_CHECK_TIMEOUT_MS).catch((err: Error) =>
    log.error(
      { err, brokers: config.KAFKA_BROKERS },
      'cannot reach Kafka (KAFKA_BROKERS); starting anyway: events wait in the outbox and consumers join when it is back',
    ),
  );
  return kafka;
}

export async function startService<S extends Record<string, VarSpec<unknown>>>(module: ServiceModule<S>, opts: StartOptions = {}): Promise<RunningService> {
  let config: ServiceConfig & ConfigOf<S>;
  try {
    config = loadConfig({ ...serviceConfig, ...(module.config ?? {}) }, opts.env ?? process.env) as ServiceConfig & ConfigOf<S>;
  } catch (err) {
    throw new StartupError(module.name, (err as Error).message, err);
  }
  const name = module.name;
  const log = createLogger({ name, level: config.LOG_LEVEL });
  const lifecycle = opts.lifecycle ?? new Lifecycle(log);
  try {
    const pool = createPool(config.DATABASE_URL, { name, max: config.DATABASE_POOL_SIZE });
    lifecycle.onClose(`${name} database pool`, () => pool.end());
    await checkDatabase(pool, config.DATABASE_URL).catch((err: Error) => {
      throw new StartupError(name, `${err.message} (DATABASE_URL)`, err);
    });

    const metrics = createMetrics(name);
    const transport = opts.transport ?? connectKafka(name, config, log, metrics, lifecycle);

    await migrate(pool, [messagingMigrations, ...(module.migrations ? [module.migrations] : [])], log);

    const outbox = new Outbox();
    const relay = new OutboxRelay({ name, pool, transport, outbox, log, metrics });
    const app = await createServer({
      name,
      description: module.description,
      log,
      metrics,
      readiness: [
        { name: 'database', check: async () => void (await pool.query('SELECT 1')) },
        // Not ready while events cannot flow either way: consumers not consuming, or the outbox not draining.
        { name: 'broker', check: () => transport.check() },
        {
          name: 'outbox',
          check: async () => {
            if (relay.notPublishing) throw new Error(relay.notPublishing);
          },
        },
      ],
    });
    const parts = (await module.setup({ name, config, log, pool, outbox, transport, metrics, app, lifecycle })) ?? {};

    relay.start();
    lifecycle.onClose(`${name} outbox relay`, () => relay.stop());

    if (parts.consumes?.length) {
      const consumer = new EventConsumer({ name, pool, transport, outbox, handlers: parts.consumes, log, metrics });
      await consumer.start();
      lifecycle.onClose(`${name} event consumer`, () => consumer.close());
    }
    if (parts.jobs?.length) {
      const jobs = new JobRunner(log);
      for (const job of parts.jobs) jobs.start(job);
      lifecycle.onClose(`${name} jobs`, () => jobs.stop());
    }

    // Registered last so it closes first: stop taking requests and drain them before what they use goes away.
    closeWithLifecycle(app, lifecycle);
    const url = await listen(app, config.PORT, config.HOST);
    log.info({ url, database: describeDatabaseUrl(config.DATABASE_URL), transport: transport.kind }, `${name} service started`);
    return { name, url, lifecycle, close: () => lifecycle.close() };
  } catch (err) {
    if (!opts.lifecycle) await lifecycle.close('start-up failed');
    if (err instanceof StartupError) throw err;
    throw new StartupError(name, (err as Error).message, err);
  }
}

/** The main of a process: start, install signal handlers, or say why it cannot start and exit 1. */
export async function runMain(start: () => Promise<RunningService>): Promise<void> {
  try {
    const running = await start();
    running.lifecycle.installSignalHandlers();
  } catch (err) {
    process.stderr.write(`${err instanceof StartupError || err instanceof ConfigError ? (err as Error).message : (err as Error).stack}\n`);
    process.exit(1);
  }
}

export const runService = <S extends Record<string, VarSpec<unknown>>>(module: ServiceModule<S>): Promise<void> => runMain(() => startService(module));

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
