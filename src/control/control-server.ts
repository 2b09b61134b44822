import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv4, isIPv6, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { type Logger, pino } from 'pino';
import { DashboardPages } from '../dashboard/dashboard-pages.js';
import { UiSessions } from '../dashboard/ui-sessions.js';
import { KernelError } from '../errors/kernel-error.js';
import type { Gateway } from '../gateway/create-gateway.js';
import { GatewayMetrics } from '../gateway/gateway-metrics.js';
import { bearerMatches, secretDigest } from '../http/bearer-auth.js';
import { writeJson } from '../http/write-json.js';
import type { ControlKernel } from './control-kernel.js';
import { registerControlRoutes } from './control-routes.js';
import type { DeploymentCatalog } from './deployment-catalog.js';
import { type ControlErrorBody, toErrorResponse } from './error-mapping.js';
import { HttpRouter, type RouteAuth, type RouteOutcome } from './http-router.js';
import { ControlMetrics } from './metrics.js';
import { readJsonBody } from './read-json-body.js';
import type { ReloadReport } from './reload-report.js';
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
  /** The daemon's gateway: its `request.*` events join `/v1/events` and `/metrics`, its records `/v1/requests`. */
  gateway?: Pick<Gateway, 'on' | 'requests' | 'inFlight'>;
  /** Serve the dashboard at `/ui` with one-time login links (a session cookie + CSRF token). @default true */
  dashboard?: boolean;
  /** Re-reads the daemon's config (`POST /v1/reload`, `shic reload`); absent = the route answers 404. */
  reload?: (options: { now: boolean }) => Promise<ReloadReport>;
  /**
   * Asks the daemon to stop (`POST /v1/shutdown`, `shic restart`); with `keep` and adoption on, its servers keep
   * running for the next daemon. Absent = the route answers 404.
   */
  shutdown?: (options: { keep: boolean }) => { keep: boolean; instances: number };
  /** How long `close()` lets in-flight requests finish before it cuts their connections, in ms. @default 5000 */
  closeGraceMs?: number;
}

/** A listening control API. */
export interface ControlServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly metrics: ControlMetrics;
  /**
   * First step of a shutdown: stops accepting connections, answers new requests with 503 `shutting_down`, aborts
   * in-flight ones (they answer 503 too) and closes idle keep-alive connections. Event streams stay open, so
   * they still carry the kernel's last events (idempotent).
   */
  drain(): void;
  /**
   * Drains, ends event streams, waits up to `closeGraceMs` for in-flight answers, then cuts every remaining
   * connection and unsubscribes from the kernel (idempotent; the kernel stays open).
   */
  close(): Promise<void>;
}

/** True for addresses only this machine can reach (`127.0.0.0/8`, `::1`, `localhost`). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIPv4(host) && host.startsWith('127.');
}

function errorBody(code: string, message: string): ControlErrorBody {
  return { error: { code, message, details: {} } };
}

function writeOutcome(res: ServerResponse, outcome: RouteOutcome): void {
  if ('streamed' in outcome) return;
  if ('json' in outcome) {
    writeJson(res, 200, outcome.json);
    return;
  }
  res.writeHead(200, {
    'content-type': outcome.contentType,
    'content-length': String(Buffer.byteLength(outcome.text)),
  });
  res.end(outcome.text);
}

// Errors Node's HTTP parser raises before a request exists (huge headers, garbage) still get the API's shape.
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify(
    tooLarge
      ? errorBody(
          'headers_too_large',
          'The request line or headers are larger than the server accepts (16 KiB).',
        )
      : errorBody('bad_request', 'The request is not valid HTTP/1.1.'),
  );
  const reason = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

const UNAUTHORIZED = errorBody(
  'unauthorized',
  'Missing or wrong bearer token: send `Authorization: Bearer <token>` (the token is in <stateDir>/control.token).',
);
const CSRF_FAILED = errorBody(
  'csrf_failed',
  'Missing or wrong x-csrf-token: a dashboard session must send the token from GET /v1/ui/session.',
);
const SHUTTING_DOWN = errorBody(
  'shutting_down',
  'The shic daemon is shutting down; retry against its successor.',
);

/**
 * Starts the control API (node:http) over a kernel: bearer auth on every route except `GET /healthz`, JSON
 * bodies only (415 otherwise, 413 over the limit), zod-checked fields (400 with field paths), typed errors as
 * `{ error: { code, message, details } }` on every path (431 and 503 included), SSE for events and log follow,
 * Prometheus metrics fed from kernel events, and a shutdown with a deadline.
 * @throws when the address cannot be bound.
 */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const expected = [secretDigest(options.token)];
  const bodyLimit = options.bodyLimitBytes ?? 1024 * 1024;
  const streams = new Set<SseStream>();
  const inFlight = new Map<ServerResponse, AbortController>();
  const metrics = new ControlMetrics(
    () => inFlight.size - streams.size,
    () => streams.size,
    () => options.kernel.memory?.() ?? null,
  );
  const unsubscribeKernel = options.kernel.on('*', metrics.observe);
  const { gateway } = options;
  const unsubscribeGateway = gateway
    ? gateway.on('*', new GatewayMetrics(metrics.registry, () => gateway.inFlight).observe)
    : () => {};
  const unsubscribe = () => {
    unsubscribeKernel();
    unsubscribeGateway();
  };
  const sessions = options.dashboard === false ? undefined : new UiSessions();
  const pages = sessions ? new DashboardPages(sessions) : undefined;
  const router = new HttpRouter();
  registerControlRoutes(router, {
    kernel: options.kernel,
    catalog: options.catalog,
    gateway: options.gateway,
    metrics,
    streams,
    sseHeartbeatMs: options.sseHeartbeatMs ?? 15_000,
    startedAt: Date.now(),
    sessions,
    reload: options.reload,
    shutdown: options.shutdown,
  });
  let draining = false;

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    signal: AbortSignal,
    route: { pattern?: string },
  ): Promise<void> {
    // The request target is split by hand: `new URL` reads "//x" as a host, and a path is all we route on.
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const pathname = queryAt < 0 ? target : target.slice(0, queryAt);
    const query = new URLSearchParams(queryAt < 0 ? '' : target.slice(queryAt + 1));
    const method = req.method ?? 'GET';
    if (pages?.handle(req, res, pathname, query)) return;
    const open = method === 'GET' && pathname === '/healthz';
    let auth: RouteAuth = open ? 'none' : 'bearer';
    if (!open && !bearerMatches(req.headers.authorization, expected)) {
      // The dashboard's browser session: its cookie, plus the CSRF token on anything that changes state.
      const session = sessions?.fromCookie(req.headers.cookie);
      if (!session) return writeJson(res, 401, UNAUTHORIZED, { 'www-authenticate': 'Bearer' });
      const reads = method === 'GET' || method === 'HEAD';
      const csrf = req.headers['x-csrf-token'];
      if (!reads && !sessions!.csrfMatches(session, typeof csrf === 'string' ? csrf : undefined)) {
        return writeJson(res, 403, CSRF_FAILED);
      }
      auth = 'session';
    }
    let match: ReturnType<HttpRouter['match']>;
    try {
      match = router.match(method, pathname);
    } catch (error) {
      throw new KernelError('invalid_request', 'The request path has malformed percent-encoding.', {
        cause: error,
      });
    }
    if (!match) {
      const shown = pathname.length > 200 ? `${pathname.slice(0, 200)}…` : pathname;
      return writeJson(res, 404, errorBody('route_not_found', `No route ${method} ${shown}.`));
    }
    route.pattern = match.pattern;
    const body = await readJsonBody(req, bodyLimit);
    const outcome = await match.handler({
      params: match.params,
      query: Object.fromEntries(query),
      body,
      auth,
      raw: req,
      res,
      signal,
    });
    writeOutcome(res, outcome);
  }

  const server = createServer((req, res) => {
    const controller = new AbortController();
    inFlight.set(res, controller);
    res.on('close', () => {
      inFlight.delete(res);
      if (!res.writableFinished) controller.abort();
    });
    if (draining) return writeJson(res, 503, SHUTTING_DOWN, { connection: 'close' });
    // Logs name the route pattern, never the raw URL: a path can carry a lease ref or whatever a client typed.
    const route: { pattern?: string } = {};
    serve(req, res, controller.signal, route).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (draining) return writeJson(res, 503, SHUTTING_DOWN, { connection: 'close' });
      const { status, body } = toErrorResponse(error);
      const log = { code: body.error.code, method: req.method, route: route.pattern ?? null };
      if (status >= 500) logger.error({ ...log, err: error }, 'control request failed');
      else logger.debug(log, 'control request rejected');
      // A refused body may still be on the wire: do not let the next request on this socket parse it.
      const unread = !req.complete;
      writeJson(res, status, body, unread ? { connection: 'close' } : {});
    });
  });
  server.on('clientError', answerClientError);

  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: options.port ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    unsubscribe();
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const urlHost = isIPv6(host) ? `[${host}]` : host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  if (!isLoopbackHost(host)) {
    logger.warn(
      { host, port },
      'control API listens beyond loopback: anyone who can reach it and has the token controls the daemon',
    );
  }
  const serverClosed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  const drain = () => {
    if (draining) return;
    draining = true;
    server.close();
    for (const controller of inFlight.values()) controller.abort();
    server.closeIdleConnections();
  };
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    metrics,
    drain,
    close() {
      closing ??= (async () => {
        drain();
        for (const stream of streams) stream.close();
        const answered = Promise.all(
          [...inFlight.keys()].map(
            (res) => new Promise<void>((resolve) => res.once('close', () => resolve())),
          ),
        );
        // The grace timer is cancelled as soon as every answer is out: nothing outlives the close.
        const grace = new AbortController();
        const timer = delay(options.closeGraceMs ?? 5_000, undefined, { signal: grace.signal }).catch(
          () => {},
        );
        await Promise.race([answered, timer]);
        grace.abort();
        server.closeAllConnections();
        unsubscribe();
        await serverClosed;
      })();
      return closing;
    },
  };
}
