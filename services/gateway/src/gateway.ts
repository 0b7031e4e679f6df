import proxy from '@fastify/http-proxy';
import { type Env, env, loadConfig, type VarSpec } from '@folio/platform/config';
import { REQUEST_ID_HEADER } from '@folio/platform/context';
import { closeWithLifecycle, createServer, listen } from '@folio/platform/http';
import { Lifecycle } from '@folio/platform/lifecycle';
import { createLogger } from '@folio/platform/log';
import { PROBLEM_CONTENT_TYPE, titleFor } from '@folio/platform/problem';
import { LOG_LEVELS, type RunningService, StartupError } from '@folio/platform/service';
import { upstreams } from './routes.ts';

const urlOf = (description: string) => env.optional(env.url({ description, protocols: ['http:', 'https:'] }));

export const gatewayConfig = {
  PORT: env.port({ description: 'Public port of the edge gateway', default: 8080 }),
  HOST: env.string({ description: 'Interface the gateway listens on', default: '127.0.0.1' }),
  LOG_LEVEL: env.oneOf(LOG_LEVELS, { description: 'Log level', default: 'info' }),
  TRUST_PROXY: env.bool({ description: "Trust clients' X-Forwarded-For (only when a load balancer in front of the gateway sets it)", default: false }),
  UPSTREAM_TIMEOUT_MS: env.int({ description: 'How long the gateway waits for a service to answer', default: 15_000, min: 100, max: 120_000 }),
  ...Object.fromEntries(upstreams.map((u) => [u.urlVariable, urlOf(`Base URL of the ${u.service} service`)])),
} as Record<string, VarSpec<unknown>>;

interface UpstreamHealth {
  status: 'up' | 'down';
  url: string;
  detail?: string;
}

export async function startGateway(opts: { env?: Env; lifecycle?: Lifecycle } = {}): Promise<RunningService> {
  let config: Record<string, unknown>;
  try {
    config = loadConfig(gatewayConfig, opts.env ?? process.env);
  } catch (err) {
    throw new StartupError('gateway', (err as Error).message, err);
  }
  const log = createLogger({ name: 'gateway', level: config.LOG_LEVEL as string });
  const lifecycle = opts.lifecycle ?? new Lifecycle(log);
  const routed = upstreams.flatMap((u) => (config[u.urlVariable] ? [{ ...u, url: String(config[u.urlVariable]).replace(/\/$/, '') }] : []));

  const app = await createServer({
    name: 'gateway',
    description: 'The public entry of Folio: routes /api/* to the services.',
    log,
    trustProxy: config.TRUST_PROXY as boolean,
    healthDetails: async () => {
      const services = Object.fromEntries(await Promise.all(routed.map(async (u) => [u.service, await probe(u.url)] as const)));
      const allUp = Object.values(services).every((s) => s.status === 'up');
      return { status: allUp ? 'ok' : 'degraded', services };
    },
  });

  for (const u of routed) {
    for (const prefix of u.prefixes) {
      await app.register(proxy, {
        upstream: u.url,
        prefix,
        rewritePrefix: prefix,
        http: { requestOptions: { timeout: config.UPSTREAM_TIMEOUT_MS as number } },
        replyOptions: {
          // The service sees the same ids as the edge, so one grep follows a request end to end, and the
          // client address as the edge saw it: a client's own X-Forwarded-For is replaced, never passed on,
          // so per-address limits (login throttling) cannot be dodged or pinned on the gateway itself.
          rewriteRequestHeaders: (request, headers) => ({
            ...headers,
            [REQUEST_ID_HEADER]: request.id,
            'x-correlation-id': request.correlationId,
            'x-forwarded-for': request.ip,
          }),
          onError: (reply, { error }) => {
            const timedOut = /timeout|timed out/i.test(error.message) || (error as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT';
            const status = timedOut ? 504 : 503;
            log.error({ err: error, upstream: u.service }, 'upstream call failed');
            void reply
              .code(status)
              .type(PROBLEM_CONTENT_TYPE)
              .send({
                type: 'urn:folio:problem:unavailable',
                title: titleFor(status),
                status,
                detail: timedOut
                  ? `The ${u.service} service did not answer in time; try again shortly.`
                  : `The ${u.service} service is unavailable; try again shortly.`,
                instance: reply.request.url.split('?')[0],
              });
          },
        },
      });
    }
  }

  closeWithLifecycle(app, lifecycle);
  const url = await listen(app, config.PORT as number, config.HOST as string);
  log.info({ url, routes: routed.map((u) => `${u.prefixes.join(',')} → ${u.service} ${u.url}`) }, 'gateway started');
  return { name: 'gateway', url, lifecycle, close: () => lifecycle.close() };
}

async function probe(url: string): Promise<UpstreamHealth> {
  try {
    const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
    if (res.ok) return { status: 'up', url };
    const body = (await res.json().catch(() => ({}))) as { detail?: string };
    return { status: 'down', url, detail: body.detail ?? `answered ${res.status}` };
  } catch (err) {
    return { status: 'down', url, detail: (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message };
  }
}
