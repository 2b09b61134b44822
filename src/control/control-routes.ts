import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InstanceNotFoundError } from '../errors/error-catalog.js';
import { KernelError } from '../errors/kernel-error.js';
import type { KernelEvent } from '../telemetry/kernel-events.js';
import { deploymentEnsureBody, eventsQuery, fullEnsureBody, logsQuery, renewBody } from './control-bodies.js';
import type { ControlKernel } from './control-kernel.js';
import type { DeploymentCatalog, EndpointCall } from './deployment-catalog.js';
import { exposeDescriptor } from './expose-descriptor.js';
import type { ControlMetrics } from './metrics.js';
import { openSseStream, type SseStream } from './sse-stream.js';

/** What the routes share with the server. */
export interface ControlRouteContext {
  kernel: ControlKernel;
  catalog: DeploymentCatalog | undefined;
  metrics: ControlMetrics;
  /** Open SSE streams, ended when the server closes. */
  streams: Set<SseStream>;
  sseHeartbeatMs: number;
  /** Epoch ms. */
  startedAt: number;
}

type IdParams = { Params: { id: string } };
type RefParams = { Params: { ref: string } };

function snapshotOrThrow(kernel: ControlKernel, id: string) {
  const snapshot = kernel.lookupInstance(id);
  if (!snapshot) throw new InstanceNotFoundError(id);
  return snapshot;
}

// Aborts the kernel call when the HTTP client goes away, so an abandoned ensure does not keep waiting.
function abortOnDisconnect(reply: FastifyReply): AbortController {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller;
}

function toEndpointCall(body: unknown, catalog: DeploymentCatalog | undefined): EndpointCall {
  const isDeployment = typeof body === 'object' && body !== null && 'deployment' in body;
  if (!isDeployment) return fullEnsureBody.parse(body);
  const parsed = deploymentEnsureBody.parse(body);
  if (!catalog) {
    throw new KernelError(
      'invalid_request',
      'This daemon has no config: send a full { request, consumer, context, options } body.',
      {
        details: { field: 'deployment' },
      },
    );
  }
  const { deployment, ...options } = parsed;
  return catalog.endpointCall(deployment, options);
}

function openStream(ctx: ControlRouteContext, request: FastifyRequest, reply: FastifyReply): SseStream {
  reply.hijack();
  const stream = openSseStream(reply.raw, ctx.sseHeartbeatMs);
  ctx.streams.add(stream);
  void stream.closed.then(() => ctx.streams.delete(stream));
  request.raw.on('close', () => stream.close());
  return stream;
}

/** Registers the control API routes (issue 7 §3) on a Fastify app. */
export function registerControlRoutes(app: FastifyInstance, ctx: ControlRouteContext): void {
  const { kernel } = ctx;

  app.get('/healthz', async () => ({ status: 'ok', pid: process.pid, uptimeMs: Date.now() - ctx.startedAt }));

  app.get('/v1/deployments', async () => ({
    deployments: (ctx.catalog?.names() ?? []).map((name) => {
      const d = ctx.catalog!.get(name);
      return { name, backend: d.backend, start: d.start, modelIdentity: d.modelIdentity ?? null };
    }),
  }));

  app.post('/v1/endpoints/ensure', async (request, reply) => {
    const call = toEndpointCall(request.body, ctx.catalog);
    const controller = abortOnDisconnect(reply);
    const result = await kernel.ensureEndpoint(call.request, call.consumer, call.context, {
      ...call.options,
      signal: controller.signal,
    });
    return {
      endpoint: exposeDescriptor(result.endpoint),
      compatibility: result.compatibility,
      lease: result.lease,
    };
  });

  app.post<RefParams>('/v1/leases/:ref/renew', async (request) => {
    const { ttlMs } = renewBody.parse(request.body ?? {});
    return { lease: await kernel.renewLease(request.params.ref, ttlMs) };
  });

  // Releasing an unknown lease is a no-op success (DESIGN §5); renewing one is a 404.
  app.delete<RefParams>('/v1/leases/:ref', async (request) => {
    await kernel.releaseLease(request.params.ref);
    return { released: true, leaseRef: request.params.ref };
  });

  app.get('/v1/instances', async () => ({ instances: kernel.listInstances() }));

  app.get<IdParams>('/v1/instances/:id', async (request) => ({
    instance: snapshotOrThrow(kernel, request.params.id),
  }));

  app.post<IdParams>('/v1/instances/:id/stop', async (request) => {
    const before = snapshotOrThrow(kernel, request.params.id);
    await kernel.stopInstance(request.params.id);
    return { instance: kernel.lookupInstance(request.params.id) ?? { ...before, state: 'stopped' } };
  });

  app.get<IdParams>('/v1/instances/:id/logs', async (request, reply) => {
    const { n, follow } = logsQuery.parse(request.query ?? {});
    const id = request.params.id;
    snapshotOrThrow(kernel, id);
    const lines = kernel.instanceLogs(id, n);
    if (!follow) return { instanceId: id, lines };
    const stream = openStream(ctx, request, reply);
    for (const line of lines) stream.send('log', { line });
    const stopFollow = kernel.followInstanceLogs(id, (entry) => stream.send('log', entry));
    const stopEvents = kernel.on('*', (event) => {
      if (event.type === 'instance.stopped' && event.instanceId === id) stream.close();
    });
    void stream.closed.then(() => {
      stopFollow();
      stopEvents();
    });
  });

  app.get('/v1/events', async (request, reply) => {
    const { types } = eventsQuery.parse(request.query ?? {});
    const wanted = types
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const matches = (event: KernelEvent) =>
      !wanted || wanted.some((t) => event.type === t || (t.endsWith('.') && event.type.startsWith(t)));
    const stream = openStream(ctx, request, reply);
    const unsubscribe = kernel.on('*', (event) => {
      if (matches(event)) stream.send(event.type, event);
    });
    void stream.closed.then(unsubscribe);
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await ctx.metrics.render();
    return reply.type(contentType).send(body);
  });
}
