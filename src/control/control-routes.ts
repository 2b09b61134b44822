import type { UiSessions } from '../dashboard/ui-sessions.js';
import { InstanceNotFoundError } from '../errors/error-catalog.js';
import { KernelError } from '../errors/kernel-error.js';
import type { Gateway } from '../gateway/create-gateway.js';
import { readResidentBytes, readSystemMemory } from '../process/system-memory.js';
import {
  deploymentEnsureBody,
  eventsQuery,
  fullEnsureBody,
  logsQuery,
  renewBody,
  requestsQuery,
} from './control-bodies.js';
import type { ControlKernel } from './control-kernel.js';
import type { DeploymentCatalog, EndpointCall } from './deployment-catalog.js';
import { exposeDescriptor } from './expose-descriptor.js';
import type { HttpRouter, RouteRequest } from './http-router.js';
import type { ControlMetrics } from './metrics.js';
import type { ReloadReport } from './reload-report.js';
import { openSseStream, type SseStream } from './sse-stream.js';

/** What the routes share with the server. */
export interface ControlRouteContext {
  kernel: ControlKernel;
  catalog: DeploymentCatalog | undefined;
  gateway: Pick<Gateway, 'on' | 'requests'> | undefined;
  metrics: ControlMetrics;
  /** Open SSE streams, ended when the server closes. */
  streams: Set<SseStream>;
  sseHeartbeatMs: number;
  /** Epoch ms. */
  startedAt: number;
  /** Dashboard sessions, when the dashboard is served. */
  sessions: UiSessions | undefined;
  /** The daemon's reload, when it has a config file to re-read. */
  reload: ((options: { now: boolean }) => Promise<ReloadReport>) | undefined;
  /** Stops the daemon after this answer (`shic restart`); absent when it cannot be stopped from here. */
  shutdown: ((options: { keep: boolean }) => { keep: boolean; instances: number }) | undefined;
}

function snapshotOrThrow(kernel: ControlKernel, id: string) {
  const snapshot = kernel.lookupInstance(id);
  if (!snapshot) throw new InstanceNotFoundError(id);
  return snapshot;
}

function toEndpointCall(body: unknown, catalog: DeploymentCatalog | undefined): EndpointCall {
  const isDeployment = typeof body === 'object' && body !== null && 'deployment' in body;
  if (!isDeployment) return fullEnsureBody.parse(body);
  const parsed = deploymentEnsureBody.parse(body);
  if (!catalog) {
    throw new KernelError(
      'invalid_request',
      'This daemon has no config: send a full { request, consumer, context, options } body.',
      { details: { field: 'deployment' } },
    );
  }
  const { deployment, ...options } = parsed;
  return catalog.endpointCall(deployment, options);
}

function openStream(ctx: ControlRouteContext, request: RouteRequest): SseStream {
  const stream = openSseStream(request.res, ctx.sseHeartbeatMs);
  ctx.streams.add(stream);
  void stream.closed.then(() => ctx.streams.delete(stream));
  return stream;
}

/** Registers the control API routes (every route of guides/control-api.md) on a router. */
export function registerControlRoutes(router: HttpRouter, ctx: ControlRouteContext): void {
  const { kernel } = ctx;

  router.add('GET', '/healthz', async () => ({
    json: { status: 'ok', pid: process.pid, uptimeMs: Date.now() - ctx.startedAt },
  }));

  router.add('GET', '/v1/deployments', async () => ({
    json: {
      deployments: (ctx.catalog?.names() ?? []).map((name) => {
        const d = ctx.catalog!.get(name);
        return { name, backend: d.backend, start: d.start, modelIdentity: d.modelIdentity ?? null };
      }),
    },
  }));

  // The request's signal aborts the ensure when the client goes away or the daemon shuts down.
  router.add('POST', '/v1/endpoints/ensure', async (request) => {
    const call = toEndpointCall(request.body, ctx.catalog);
    const result = await kernel.ensureEndpoint(call.request, call.consumer, call.context, {
      ...call.options,
      signal: request.signal,
    });
    return {
      json: {
        endpoint: exposeDescriptor(result.endpoint),
        compatibility: result.compatibility,
        lease: result.lease,
      },
    };
  });

  router.add('POST', '/v1/leases/:ref/renew', async (request) => {
    const { ttlMs } = renewBody.parse(request.body ?? {});
    return { json: { lease: await kernel.renewLease(request.params.ref!, ttlMs) } };
  });

  // Releasing an unknown lease is a no-op success (guides/leases.md); renewing one is a 404.
  router.add('DELETE', '/v1/leases/:ref', async (request) => {
    await kernel.releaseLease(request.params.ref!);
    return { json: { released: true, leaseRef: request.params.ref } };
  });

  router.add('GET', '/v1/instances', async () => ({ json: { instances: kernel.listInstances() } }));

  router.add('GET', '/v1/instances/:id', async (request) => ({
    json: { instance: snapshotOrThrow(kernel, request.params.id!) },
  }));

  router.add('POST', '/v1/instances/:id/stop', async (request) => {
    const id = request.params.id!;
    const before = snapshotOrThrow(kernel, id);
    await kernel.stopInstance(id);
    return { json: { instance: kernel.lookupInstance(id) ?? { ...before, state: 'stopped' } } };
  });

  router.add('GET', '/v1/instances/:id/logs', async (request) => {
    const { n, follow } = logsQuery.parse(request.query);
    const id = request.params.id!;
    snapshotOrThrow(kernel, id);
    const lines = kernel.instanceLogs(id, n);
    if (!follow) return { json: { instanceId: id, lines } };
    const stream = openStream(ctx, request);
    for (const line of lines) stream.send('log', { line });
    const stopFollow = kernel.followInstanceLogs(id, (entry) => stream.send('log', entry));
    const stopEvents = kernel.on('*', (event) => {
      if (event.type === 'instance.stopped' && event.instanceId === id) stream.close();
    });
    void stream.closed.then(() => {
      stopFollow();
      stopEvents();
    });
    return { streamed: true };
  });

  router.add('GET', '/v1/events', async (request) => {
    const { types } = eventsQuery.parse(request.query);
    const wanted = types
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const matches = (event: { type: string }) =>
      !wanted || wanted.some((t) => event.type === t || (t.endsWith('.') && event.type.startsWith(t)));
    const stream = openStream(ctx, request);
    const forward = (event: { type: string }) => {
      if (matches(event)) stream.send(event.type, event);
    };
    const unsubscribeKernel = kernel.on('*', forward);
    const unsubscribeGateway = ctx.gateway?.on('*', forward);
    void stream.closed.then(() => {
      unsubscribeKernel();
      unsubscribeGateway?.();
    });
    return { streamed: true };
  });

  // Recent gateway requests, newest first (guides/gateway.md); empty when the daemon runs no gateway.
  router.add('GET', '/v1/requests', async (request) => {
    const query = requestsQuery.parse(request.query);
    return { json: { requests: ctx.gateway?.requests.list(query) ?? [] } };
  });

  // The machine's measured memory (and its cgroup's), residency's budgets, charges and queue, and per running
  // server both its measured resident set and what residency charges it.
  router.add('GET', '/v1/memory', async () => ({
    json: {
      system: readSystemMemory(),
      residency: kernel.memory?.() ?? null,
      instances: kernel
        .listInstances()
        .filter((i) => i.pid !== undefined && i.state !== 'stopped')
        .map((i) => ({
          instanceId: i.instanceId,
          deployment: typeof i.metadata.deployment === 'string' ? i.metadata.deployment : null,
          pid: i.pid,
          residentBytes: readResidentBytes(i.pid!),
          charged: i.memory,
        })),
    },
  }));

  // Re-reads shic.yaml and applies its deployments (guides/cli.md, `shic reload`).
  router.add('POST', '/v1/reload', async (request) => {
    if (!ctx.reload) throw new KernelError('route_not_found', 'This daemon has no config file to reload.');
    const body = (request.body ?? {}) as { now?: unknown };
    if (body.now !== undefined && typeof body.now !== 'boolean') {
      throw new KernelError('invalid_request', '`now` must be a boolean.', { details: { field: 'now' } });
    }
    return { json: await ctx.reload({ now: body.now === true }) };
  });

  // Stops the daemon once the answer is out (guides/durable-state.md, `shic restart`): with `keep` and adoption on, its
  // servers are handed over to the next daemon instead of stopped.
  router.add('POST', '/v1/shutdown', async (request) => {
    if (!ctx.shutdown)
      throw new KernelError('route_not_found', 'This daemon cannot be stopped through its API.');
    const body = (request.body ?? {}) as { keep?: unknown };
    if (body.keep !== undefined && typeof body.keep !== 'boolean') {
      throw new KernelError('invalid_request', '`keep` must be a boolean.', { details: { field: 'keep' } });
    }
    return { json: ctx.shutdown({ keep: body.keep === true }) };
  });

  // Every live lease, for the dashboard and scripts.
  router.add('GET', '/v1/leases', async () => ({
    json: { leases: kernel.listInstances().flatMap((i) => kernel.listLeases(i.instanceId)) },
  }));

  // Dashboard login: a one-time link, only for a holder of the bearer token (`shic ui`).
  router.add('POST', '/v1/ui/login-links', async (request) => {
    if (!ctx.sessions) throw new KernelError('route_not_found', 'The dashboard is off on this daemon.');
    if (request.auth !== 'bearer') {
      throw new KernelError(
        'unauthorized',
        'Login links are made with the bearer token (`shic ui`), not a session.',
      );
    }
    const { code, expiresAt } = ctx.sessions.createLoginCode();
    return { json: { path: `/ui/login?code=${code}`, expiresAt } };
  });

  router.add('GET', '/v1/ui/session', async (request) => {
    const session = ctx.sessions?.fromCookie(request.raw.headers.cookie);
    if (!session) throw new KernelError('unauthorized', 'No dashboard session: open a link from `shic ui`.');
    return { json: { csrfToken: session.csrfToken, expiresAt: session.expiresAt } };
  });

  router.add('POST', '/v1/ui/logout', async (request) => {
    ctx.sessions?.logout(request.raw.headers.cookie);
    request.res.setHeader('set-cookie', ctx.sessions?.cookie() ?? '');
    return { json: { loggedOut: true } };
  });

  router.add('GET', '/metrics', async () => {
    const { contentType, body } = await ctx.metrics.render();
    return { text: body, contentType };
  });
}
