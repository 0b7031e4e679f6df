/**
 * The distributed topology: one process per service on real PostgreSQL (a database each), Redis
 * and Kafka, and the gateway in front. `npm run start:distributed` runs it in the foreground,
 * supervised (a process that dies is started again); the end-to-end tests and the benchmark drive
 * it through this class unsupervised, crashing and restarting services themselves.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureDatabase, withDatabase } from '@folio/platform/db';
import { freePort } from './ports.ts';
import { databaseOf, services as registry, type ServiceEntry, urlVariableOf } from './services.ts';
import { hasExited, launcherLog, Supervised } from './supervisor.ts';

export interface DistributedOptions {
  pgAdminUrl: string;
  kafkaBrokers: string;
  /** Redis for the cart's active carts and the gateway's shared rate-limit counts. */
  redisUrl?: string;
  gatewayPort: number;
  logLevel: string;
  /** Database names are `<prefix>_<service>`; tests use a prefix of their own. */
  databasePrefix?: string;
  services?: ServiceEntry[];
  env?: Record<string, string>;
  /** Extra variables for the gateway only, e.g. `{ RATE_LIMIT_MAX: '0' }` for load that comes from one address. */
  gatewayEnv?: Record<string, string>;
  /** Each output line of each process; default: printed with the service's name in front. */
  output?: (service: string, line: string) => void;
  readyTimeoutMs?: number;
  /**
   * Restart a process that dies unasked, with backoff (scripts/lib/supervisor.ts). Off by default:
   * tests and the benchmark crash services on purpose and restart them when they choose. Either way
   * kill(), restart() and stop() are deliberate and never followed by an automatic restart.
   */
  supervise?: boolean;
  /** The launcher's own messages (a death, a restart, ready again); default stderr after `folio: `. */
  log?: (message: string) => void;
}

const gatewayMain = fileURLToPath(new URL('../../services/gateway/src/main.ts', import.meta.url));
const simulatorMain = fileURLToPath(new URL('../../payment-gateway-simulator/src/main.ts', import.meta.url));
/** The payment gateway plays Stripe: its own process, calling back through the public edge. */
export const SIMULATOR = 'payment-gateway';

interface Proc {
  name: string;
  main: string;
  env: Record<string, string>;
  url: string;
  /** Answering this path with 2xx means ready. */
  readyPath: string;
}

const isReady = (p: Proc): Promise<boolean> =>
  fetch(`${p.url}${p.readyPath}`, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => r.ok,
    () => false,
  );

export class DistributedTopology {
  readonly gatewayUrl: string;
  readonly urls: Record<string, string>;
  readonly #procs: Map<string, Proc>;
  readonly #units = new Map<string, Supervised>();
  readonly #opts: DistributedOptions;

  private constructor(opts: DistributedOptions, procs: Map<string, Proc>) {
    this.#opts = opts;
    this.#procs = procs;
    this.gatewayUrl = procs.get('gateway')!.url;
    this.urls = Object.fromEntries([...procs].map(([name, p]) => [name, p.url]));
    const output = opts.output ?? ((name: string, line: string) => process.stdout.write(`${name.padEnd(12)} | ${line}\n`));
    const log = opts.log ?? launcherLog;
    for (const p of procs.values()) {
      this.#units.set(
        p.name,
        new Supervised({
          name: p.name,
          command: process.execPath,
          args: [p.main],
          env: p.env,
          output: (line) => output(p.name, line),
          restart: opts.supervise ?? false,
          log,
          onRestart: (child) => void this.#reportReady(p, child, log),
        }),
      );
    }
  }

  static async start(opts: DistributedOptions): Promise<DistributedTopology> {
    const entries = opts.services ?? registry;
    const ports = await Promise.all(entries.map(() => freePort()));
    const urls = Object.fromEntries(entries.map((s, i) => [urlVariableOf(s.name), `http://127.0.0.1:${ports[i]}`]));
    const edge = `http://127.0.0.1:${opts.gatewayPort}`;
    const withSimulator = entries.some((e) => e.name === 'payment');
    const simulatorUrl = `http://127.0.0.1:${await freePort()}`;
    const common: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...urls,
      ...(withSimulator ? { PAYMENT_GATEWAY_URL: simulatorUrl, PUBLIC_URL: edge } : {}),
      // The storefront is served by the edge: payment redirects and notification links point there.
      STOREFRONT_URL: edge,
      KAFKA_BROKERS: opts.kafkaBrokers,
      // Topologies sharing the broker (a test suite beside the benchmark) keep to their own topics and groups.
      ...(opts.databasePrefix ? { KAFKA_NAMESPACE: opts.databasePrefix } : {}),
      ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}),
      LOG_LEVEL: opts.logLevel,
      ...opts.env,
    };
    const procs = new Map<string, Proc>();
    if (withSimulator) {
      procs.set(SIMULATOR, {
        name: SIMULATOR,
        main: simulatorMain,
        url: simulatorUrl,
        readyPath: '/health',
        env: { ...common, PORT: new URL(simulatorUrl).port, PUBLIC_URL: simulatorUrl, WEBHOOK_URL: `${edge}/api/payments/webhook` },
      });
    }
    for (const [i, entry] of entries.entries()) {
      const database = databaseOf(entry.name, opts.databasePrefix);
      await ensureDatabase(opts.pgAdminUrl, database);
      procs.set(entry.name, {
        name: entry.name,
        main: entry.main,
        url: urls[urlVariableOf(entry.name)]!,
        readyPath: '/ready',
        // One instance of each: its name is stable across restarts, so a crashed consumer rejoins at once.
        env: { ...common, DATABASE_URL: withDatabase(opts.pgAdminUrl, database), PORT: String(ports[i]), KAFKA_INSTANCE_ID: `${entry.name}-1` },
      });
    }
    procs.set('gateway', {
      name: 'gateway',
      main: gatewayMain,
      url: edge,
      readyPath: '/ready',
      env: { ...common, PORT: String(opts.gatewayPort), ...opts.gatewayEnv },
    });
    const topology = new DistributedTopology(opts, procs);
    try {
      // The gateway simulator first (services may call it at once), then the services together (each
      // migrates its own database), then the edge once they are ready.
      const simulator = procs.get(SIMULATOR);
      if (simulator) await topology.#launch(simulator);
      await Promise.all([...procs.values()].filter((p) => p.name !== 'gateway' && p.name !== SIMULATOR).map((p) => topology.#launch(p)));
      await topology.#launch(procs.get('gateway')!);
    } catch (err) {
      await topology.stop();
      throw err;
    }
    return topology;
  }

  /** Sends a signal (SIGKILL by default: a crash) and waits until the process is gone; it stays down until restart(). */
  async kill(service: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.#proc(service);
    await this.#unit(service).stop(signal);
  }

  /** Starts a service again with the same environment and waits until it is ready. */
  async restart(service: string): Promise<void> {
    const p = this.#proc(service);
    await this.#unit(service).stop('SIGTERM');
    await this.#launch(p);
  }

  /** Stops everything: the gateway first, then the services, each given time to drain. Nothing is restarted. */
  async stop(): Promise<void> {
    // First of all no more restarts: a Ctrl-C reaches every child at once, and one that exits while
    // the gateway drains must not be started again.
    for (const unit of this.#units.values()) unit.supervise = false;
    const gateway = this.#unit('gateway');
    await gateway.stop();
    await Promise.all([...this.#units.values()].filter((u) => u !== gateway && u.name !== SIMULATOR).map((u) => u.stop()));
    await this.#units.get(SIMULATOR)?.stop();
  }

  #proc(service: string): Proc {
    const p = this.#procs.get(service);
    if (!p) throw new Error(`no service named ${service} in this topology`);
    return p;
  }

  #unit(service: string): Supervised {
    return this.#units.get(service)!;
  }

  async #launch(p: Proc): Promise<void> {
    const unit = this.#unit(p.name);
    const child = unit.start();
    const deadline = Date.now() + (this.#opts.readyTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (hasExited(child)) {
        await unit.stop(); // a supervised one would otherwise be restarted, and this start has failed
        throw new Error(`${p.name} exited (code ${child.exitCode}, signal ${child.signalCode}) while starting:\n${unit.tail.join('\n')}`);
      }
      if (await isReady(p)) return;
      await new Promise((r) => setTimeout(r, 150));
    }
    await unit.stop('SIGKILL');
    throw new Error(`${p.name} was not ready within ${(this.#opts.readyTimeoutMs ?? 60_000) / 1000} s:\n${unit.tail.join('\n')}`);
  }

  /** After a supervised restart: says when the process is ready again (a service whose broker is down may take a while). */
  async #reportReady(p: Proc, child: ChildProcess, log: (message: string) => void): Promise<void> {
    const since = Date.now();
    while (this.#unit(p.name).child === child && !hasExited(child)) {
      if (await isReady(p)) {
        log(`${p.name} is ready again (${((Date.now() - since) / 1000).toFixed(1)} s after its restart)`);
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
