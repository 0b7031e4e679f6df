/**
 * The distributed topology: one process per service on real PostgreSQL (a database each), Redis
 * and Kafka, and the gateway in front. `npm run start:distributed` runs it in the foreground; the
 * end-to-end tests and the benchmark drive it through this class (kill a service, restart it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureDatabase, withDatabase } from '@folio/platform/db';
import { freePort } from './ports.ts';
import { databaseOf, services as registry, type ServiceEntry, urlVariableOf } from './services.ts';

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
  child?: ChildProcess;
  exited?: Promise<number | null>;
  tail: string[];
}

export class DistributedTopology {
  readonly gatewayUrl: string;
  readonly urls: Record<string, string>;
  readonly #procs: Map<string, Proc>;
  readonly #opts: DistributedOptions;

  private constructor(opts: DistributedOptions, procs: Map<string, Proc>) {
    this.#opts = opts;
    this.#procs = procs;
    this.gatewayUrl = procs.get('gateway')!.url;
    this.urls = Object.fromEntries([...procs].map(([name, p]) => [name, p.url]));
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
        tail: [],
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
        env: { ...common, DATABASE_URL: withDatabase(opts.pgAdminUrl, database), PORT: String(ports[i]) },
        tail: [],
      });
    }
    procs.set('gateway', {
      name: 'gateway',
      main: gatewayMain,
      url: edge,
      readyPath: '/ready',
      env: { ...common, PORT: String(opts.gatewayPort), ...opts.gatewayEnv },
      tail: [],
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

  /** Sends a signal (SIGKILL by default: a crash) and waits until the process is gone. */
  async kill(service: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.#proc(service);
    p.child?.kill(signal);
    await p.exited;
    p.child = undefined;
  }

  /** Starts a service again with the same environment and waits until it is ready. */
  async restart(service: string): Promise<void> {
    const p = this.#proc(service);
    if (p.child) await this.kill(service, 'SIGTERM');
    await this.#launch(p);
  }

  /** Stops everything: the gateway first, then the services, each given time to drain. */
  async stop(): Promise<void> {
    const gateway = this.#procs.get('gateway')!;
    await this.#terminate(gateway);
    await Promise.all([...this.#procs.values()].filter((p) => p !== gateway && p.name !== SIMULATOR).map((p) => this.#terminate(p)));
    const simulator = this.#procs.get(SIMULATOR);
    if (simulator) await this.#terminate(simulator);
  }

  async #terminate(p: Proc): Promise<void> {
    if (!p.child || p.child.exitCode !== null) return;
    p.child.kill('SIGTERM');
    const timer = setTimeout(() => p.child?.kill('SIGKILL'), 30_000);
    await p.exited;
    clearTimeout(timer);
    p.child = undefined;
  }

  #proc(service: string): Proc {
    const p = this.#procs.get(service);
    if (!p) throw new Error(`no service named ${service} in this topology`);
    return p;
  }

  async #launch(p: Proc): Promise<void> {
    const output = this.#opts.output ?? ((name: string, line: string) => process.stdout.write(`${name.padEnd(12)} | ${line}\n`));
    const child = spawn(process.execPath, [p.main], { env: p.env, stdio: ['ignore', 'pipe', 'pipe'] });
    p.child = child;
    p.tail = [];
    p.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    for (const stream of [child.stdout, child.stderr]) {
      let buffer = '';
      stream.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          p.tail.push(line);
          if (p.tail.length > 40) p.tail.shift();
          output(p.name, line);
        }
      });
    }
    const deadline = Date.now() + (this.#opts.readyTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${p.name} exited with code ${child.exitCode} while starting:\n${p.tail.join('\n')}`);
      const ready = await fetch(`${p.url}${p.readyPath}`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      await new Promise((r) => setTimeout(r, 150));
    }
    child.kill('SIGKILL');
    throw new Error(`${p.name} was not ready within ${(this.#opts.readyTimeoutMs ?? 60_000) / 1000} s:\n${p.tail.join('\n')}`);
  }
}
