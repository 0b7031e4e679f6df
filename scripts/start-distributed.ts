/**
 * `npm run start:distributed`: one process per service on the local PostgreSQL, Redis and Kafka
 * (start Kafka first with `npm run infra:up`). A process that dies is started again, with backoff;
 * Ctrl-C stops every process and restarts none.
 *   PG_ADMIN_URL  KAFKA_BROKERS  REDIS_URL  PORT (8080)  LOG_LEVEL (info)
 */
import { DistributedTopology } from './lib/distributed.ts';

const topology = await DistributedTopology.start({
  pgAdminUrl: process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  kafkaBrokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  gatewayPort: Number(process.env.PORT ?? 8080),
  logLevel: process.env.LOG_LEVEL ?? 'info',
  supervise: true,
}).catch((err: Error) => {
  process.stderr.write(`folio: the distributed topology did not start: ${err.message}\n`);
  process.exit(1);
});
process.stdout.write(
  `\n  Folio (distributed) is running at ${topology.gatewayUrl}\n  ${Object.entries(topology.urls)
    .map(([n, u]) => `${n} ${u}`)
    .join('\n  ')}\n\n`,
);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    void topology.stop().then(() => process.exit(0));
  });
}
