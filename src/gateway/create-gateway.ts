import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { type Logger, pino } from 'pino';
import { Agent } from 'undici';
import { type GatewayConfigInput, gatewayConfigSchema } from '../config/shic-config.js';
import { DeploymentCatalog } from '../control/deployment-catalog.js';
import { KernelError } from '../errors/kernel-error.js';
import { bearerMatches, secretDigest } from '../http/bearer-auth.js';
import { writeJson } from '../http/write-json.js';
import { exposeSecret, type Secret } from '../secret/secret.js';
import { EventBus, type EventOf } from '../telemetry/event-bus.js';
import type { GatewayEventMap } from './gateway-events.js';
import type { GatewayKernel } from './gateway-kernel.js';
import { inferDeployment } from './infer-deployment.js';
import { type ModelListEntry, ModelRouter } from './model-router.js';
import { type OpenAiErrorResponse, openAiError } from './openai-error.js';
import { CLIENT_GONE, type ProxyContext, proxyModelRequest } from './proxy-model-request.js';
import { type RequestHistory, RequestLog } from './request-log.js';

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  kernel: GatewayKernel;
  /**
   * The deployments to route to: a `DeploymentCatalog` (what `shic up` passes), or deployments as in
   * `shic.yaml` (`{ tiny: { backend: 'llama-cpp', bootSpec: { model: '…' } } }`, validated here).
   */
  deployments: DeploymentCatalog | Record<string, unknown>;
  /** `gateway:` settings of shic.yaml (timeouts, maxQueue, leaseTtlMs, apiKeys, …); defaults as documented. */
  config?: Omit<GatewayConfigInput, 'apiKeys'> & { apiKeys?: Array<string | Secret<string>> };
  logger?: Logger;
  /** Where finished requests are kept (`shic up` passes its state store). @default a RequestLog of `recentRequests` */
  requests?: RequestHistory;
}

/** An OpenAI-compatible front door over a kernel: mount `handle` on any Node HTTP server. */
export interface Gateway {
  /** The Node request handler: `http.createServer(gateway.handle)`. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Finished requests, newest first (`shic requests`). */
  readonly requests: RequestHistory;
  /** Requests being served right now. */
  readonly inFlight: number;
  /** `GET /v1/models`' entries. */
  models(): ModelListEntry[];
  /** Subscribes to `request.*` events (or all with `'*'`); returns the unsubscribe function. */
  on: EventBus<GatewayEventMap>['on'];
  /**
   * Stops taking requests (503 `shutting_down`), lets in-flight ones finish for up to `graceMs`, then aborts
   * the rest (their upstream requests are cancelled and their leases released) and closes upstream
   * connections. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

export type GatewayEvent = EventOf<GatewayEventMap>;

function writeError(res: ServerResponse, answer: OpenAiErrorResponse, extra: Record<string, string> = {}) {
  writeJson(res, answer.status, answer.body, { ...answer.headers, ...extra });
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Creates the gateway: `POST /v1/*` naming a `model` is routed to its deployment, which is ensured under a
 * per-request lease and answered by passing the model server's bytes through; `GET /v1/models` lists every
 * routable model with its state; `GET /health` answers. Errors use OpenAI's shape with the kernel's stable code.
 * The gateway is a consumer of the kernel: it never starts or stops anything itself (guides/gateway.md).
 */
export function createGateway(options: GatewayOptions): Gateway {
  const config = gatewayConfigSchema.parse({
    ...options.config,
    apiKeys: (options.config?.apiKeys ?? []).map((key) => exposeSecret(key)),
  });
  const catalog =
    options.deployments instanceof DeploymentCatalog
      ? options.deployments
      : DeploymentCatalog.fromConfig(options.deployments);
  const logger = options.logger ?? pino({ level: 'silent' });
  const keyDigests = config.apiKeys.map((key) => secretDigest(key.expose()));
  const events = new EventBus<GatewayEventMap>((error) =>
    logger.error({ err: error }, 'gateway event listener threw'),
  );
  const requests = options.requests ?? new RequestLog(config.recentRequests);
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: null, pipelining: 1 });
  const ctx: ProxyContext = {
    kernel: options.kernel,
    catalog,
    router: new ModelRouter(catalog, (model) =>
      inferDeployment(
        model,
        config.modelReferences,
        config.modelReferences.ggufDirs,
        config.modelDefaults.bootSpec,
      ),
    ),
    dispatcher,
    events,
    requests,
    logger,
    timeouts: config.timeouts,
    leaseTtlMs: config.leaseTtlMs,
    maxQueue: config.maxQueue,
    bodyLimitBytes: config.bodyLimitBytes,
    streamLoadProgress: config.streamLoadProgress,
    waiting: new Map(),
  };
  const active = new Map<ServerResponse, AbortController>();
  let closing: Promise<void> | undefined;

  const authorized = (req: IncomingMessage): boolean =>
    keyDigests.length === 0 || bearerMatches(req.headers.authorization, keyDigests);

  const models = () => ctx.router.list(options.kernel.listInstances());

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const pathname = queryAt < 0 ? target : target.slice(0, queryAt);
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    if (closing) {
      return void writeError(
        res,
        openAiError(503, 'shutting_down', 'The shic gateway is shutting down; retry shortly.'),
        { connection: 'close' },
      );
    }
    if (req.method === 'GET' && (pathname === '/health' || pathname === '/v1/health')) {
      return void writeJson(res, 200, { status: 'ok' });
    }
    if (!authorized(req)) {
      return void writeError(
        res,
        openAiError(401, 'invalid_api_key', 'Missing or wrong API key: send `Authorization: Bearer <key>`.'),
        { 'www-authenticate': 'Bearer' },
      );
    }
    if (req.method === 'GET' && (pathname === '/v1/models' || pathname === '/models')) {
      return void writeJson(res, 200, { object: 'list', data: models() });
    }
    if (req.method === 'GET' && pathname.startsWith('/v1/models/')) {
      let id: string;
      try {
        id = decodeURIComponent(pathname.slice('/v1/models/'.length));
      } catch {
        return void writeError(
          res,
          openAiError(400, 'invalid_request', 'The model id has malformed percent-encoding.'),
        );
      }
      const entry = models().find((m) => m.id === id || m.aliases.includes(id) || m.modelIdentity === id);
      if (entry) return void writeJson(res, 200, entry);
      return void writeError(
        res,
        openAiError(404, 'unknown_model', `The model "${id}" does not exist here.`, 'model'),
      );
    }
    if (!pathname.startsWith('/v1/')) {
      return void writeError(
        res,
        openAiError(404, 'route_not_found', `No route ${req.method} ${pathname.slice(0, 200)}.`),
      );
    }
    if (req.method !== 'POST') {
      return void writeError(
        res,
        openAiError(
          405,
          'method_not_allowed',
          `${req.method} ${pathname.slice(0, 200)}: model routes take POST.`,
        ),
        { allow: 'POST' },
      );
    }
    const abort = new AbortController();
    active.set(res, abort);
    res.once('close', () => {
      active.delete(res);
      if (!res.writableFinished) abort.abort(CLIENT_GONE);
    });
    proxyModelRequest(ctx, req, res, target.slice('/v1'.length), requestId, abort).catch((error: unknown) => {
      logger.error({ err: error, requestId }, 'gateway request handler failed');
      if (!res.headersSent)
        writeError(res, openAiError(500, 'internal_error', 'Internal error in the shic gateway.'));
      else res.destroy();
    });
  };

  return {
    handle,
    requests,
    get inFlight() {
      return active.size;
    },
    models,
    on: events.on.bind(events) as EventBus<GatewayEventMap>['on'],
    close(graceMs = 5_000) {
      closing ??= (async () => {
        const answered = () =>
          Promise.all(
            [...active.keys()].map(
              (res) => new Promise<void>((resolve) => res.once('close', () => resolve())),
            ),
          );
        const grace = new AbortController();
        await Promise.race([answered(), delay(graceMs, undefined, { signal: grace.signal }).catch(() => {})]);
        grace.abort();
        const shutdown = new KernelError(
          'shutting_down',
          'The shic gateway shut down while this request was served.',
        );
        for (const controller of active.values()) controller.abort(shutdown);
        // Aborted requests release their leases and end their responses promptly; cut whatever still hangs.
        const cut = new AbortController();
        await Promise.race([answered(), delay(1_000, undefined, { signal: cut.signal }).catch(() => {})]);
        cut.abort();
        for (const res of active.keys()) res.destroy();
        await dispatcher.destroy();
        events.clear();
      })();
      return closing;
    },
  };
}
