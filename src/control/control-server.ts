import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import type { ControlKernel } from './control-kernel.js';
import { registerControlRoutes } from './control-routes.js';
import type { DeploymentCatalog } from './deployment-catalog.js';
import { toErrorResponse } from './error-mapping.js';
import { ControlMetrics } from './metrics.js';
import type { SseStream } from './sse-stream.js';

/** Options of {@link startControlServer}. */
export interface ControlServerOptions {
  kernel: ControlKernel;
  /** Bearer token every route but `GET /healthz` requires. */
  token: string;
  /** Deployments `ensure` can name; without it only full-body ensures work. */
  catalog?: DeploymentCatalog;
  logger?: Logger;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** Largest request body in bytes (larger → 413). @default 1048576 */
  bodyLimitBytes?: number;
  /** SSE keep-alive comment interval, in ms. @default 15000 */
  sseHeartbeatMs?: number;
}

/** A listening control API. */
export interface ControlServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly metrics: ControlMetrics;
  /** Ends SSE streams, stops listening and unsubscribes from the kernel (idempotent; the kernel stays open). */
  close(): Promise<void>;
}

/** True for addresses only this machine can reach (`127.0.0.0/8`, `::1`, `localhost`). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIPv4(host) && host.startsWith('127.');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

// Hashing both sides gives equal-length buffers, so timingSafeEqual never throws and leaks no length.
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  return timingSafeEqual(digest(match[1]!.trim()), expected);
}

/**
 * Starts the control API (Fastify) over a kernel: bearer auth on every route except `GET /healthz`, zod-checked
 * bodies (400 with field paths), a body limit (413), typed errors as `{ error: { code, message, details } }`,
 * SSE for events and log follow, and Prometheus metrics fed from kernel events.
 * @throws when the address cannot be bound.
 */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const expected = digest(options.token);
  const streams = new Set<SseStream>();
  const metrics = new ControlMetrics();
  const unsubscribe = options.kernel.on('*', metrics.observe);
  const app: FastifyInstance = Fastify({
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    logger: false,
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' && request.url.split('?')[0] === '/healthz') return;
    if (!bearerMatches(request.headers.authorization, expected)) {
      reply.header('www-authenticate', 'Bearer');
      return reply.code(401).send({
        error: {
          code: 'unauthorized',
          message:
            'Missing or wrong bearer token: send `Authorization: Bearer <token>` (the token is in <stateDir>/control.token).',
          details: {},
        },
      });
    }
  });
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorResponse(error);
    const log = { code: body.error.code, method: request.method, route: request.routeOptions.url };
    if (status >= 500) logger.error({ ...log, err: error }, 'control request failed');
    else logger.debug(log, 'control request rejected');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: { code: 'route_not_found', message: `No route ${request.method} ${request.url}.`, details: {} },
    }),
  );
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.close();
  });
  registerControlRoutes(app, {
    kernel: options.kernel,
    catalog: options.catalog,
    metrics,
    streams,
    sseHeartbeatMs: options.sseHeartbeatMs ?? 15_000,
    startedAt: Date.now(),
  });
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ host, port: options.port ?? 0 });
  } catch (error) {
    unsubscribe();
    await app.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const urlHost = isIPv6(host) ? `[${host}]` : host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  if (!isLoopbackHost(host)) {
    logger.warn(
      { host, port },
      'control API listens beyond loopback: anyone who can reach it and has the token controls the daemon',
    );
  }
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    metrics,
    close() {
      closing ??= (async () => {
        unsubscribe();
        await app.close();
      })();
      return closing;
    },
  };
}
