import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Client, type Dispatcher } from 'undici';
import type { GatewayTimeouts } from '../config/shic-config.js';
import type { ConsumerManifestInput } from '../contracts/consumer-manifest.js';
import type { EndpointDescriptor } from '../contracts/endpoint-descriptor.js';
import type { Lease } from '../contracts/lease.js';
import type { DeploymentCatalog } from '../control/deployment-catalog.js';
import { GatewayTimeoutError, QueueFullError, UpstreamFailedError } from '../errors/error-catalog.js';
import { KernelError } from '../errors/kernel-error.js';
import { readRequestBody } from '../http/read-request-body.js';
import { writeJson } from '../http/write-json.js';
import type { EventBus } from '../telemetry/event-bus.js';
import type { GatewayEventMap, RequestOutcome, RequestRecord } from './gateway-events.js';
import type { GatewayKernel } from './gateway-kernel.js';
import { LoadProgressComments } from './load-progress-comments.js';
import type { ModelRouter } from './model-router.js';
import { type openAiError, toOpenAiError } from './openai-error.js';
import { relayBody } from './relay-body.js';
import type { RequestHistory } from './request-log.js';
import { ResponseTap } from './response-tap.js';
import { rewriteBody } from './rewrite-body.js';
import { failedBeforeResponse, passThroughHeaders, sendUpstream, upstreamError } from './send-upstream.js';

/** The consumer every gateway request ensures with: any OpenAI-speaking service. */
const GATEWAY_CONSUMER: ConsumerManifestInput = {
  consumer: 'shic-gateway',
  acceptedRuntimeKinds: ['service'],
  acceptedManagementModes: ['kernel_managed', 'externally_managed'],
  acceptedProtocols: ['openai_chat_completions', 'openai_completions', 'openai_embeddings'],
};

/** What every request shares (built by createGateway). */
export interface ProxyContext {
  kernel: GatewayKernel;
  catalog: DeploymentCatalog;
  router: ModelRouter;
  dispatcher: Dispatcher;
  events: EventBus<GatewayEventMap>;
  requests: RequestHistory;
  logger: Logger;
  timeouts: GatewayTimeouts;
  leaseTtlMs: number;
  maxQueue: number;
  bodyLimitBytes: number;
  /** SSE comments while a streaming request waits for its model. */
  streamLoadProgress: boolean;
  /** Requests waiting for a model, by deployment. */
  waiting: Map<string, number>;
}

/** Why a request was aborted from outside: the client left, or the gateway is closing. */
export const CLIENT_GONE = new KernelError('client_closed', 'The client closed the connection.');

interface Ensured {
  endpoint: EndpointDescriptor;
  lease: Lease;
  waitMs: number;
  coldStart: boolean;
}

function badRequest(code: string, message: string, field: string | null): KernelError {
  return new KernelError(code, message, { details: field ? { field } : {} });
}

function parseBody(raw: Buffer): Record<string, unknown> & { model: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest('invalid_json', 'The request body is not valid JSON.', null);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('invalid_request', 'The request body must be a JSON object.', null);
  }
  const model = (parsed as { model?: unknown }).model;
  if (typeof model !== 'string' || model.length === 0) {
    throw badRequest('invalid_request', 'The request body must name a `model` (a string).', 'model');
  }
  return parsed as Record<string, unknown> & { model: string };
}

/**
 * Serves one `POST /v1/*` request: resolve `model` to a deployment, ensure it under a per-request lease
 * (renewed while the answer streams, released when the response ends however it ends), send the body upstream
 * and pass the answer back byte for byte with backpressure, tapped for TTFT and tokens. One retry, only when the
 * upstream connection failed before any byte came back (a server that just crashed: the re-ensure restarts it).
 * @param path the request target below `/v1`, query included.
 * @param abort aborted by the caller when the client leaves or the gateway closes.
 */
export async function proxyModelRequest(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  requestId: string,
  abort: AbortController,
): Promise<void> {
  const t0 = performance.now();
  const record: RequestRecord = {
    requestId,
    model: '',
    deployment: null,
    instanceId: null,
    route: `/v1${path.split('?')[0]}`,
    stream: false,
    outcome: 'completed',
    httpStatus: null,
    errorCode: null,
    errorMessage: null,
    startedAt: Date.now(),
    waitMs: null,
    coldStart: false,
    ttftMs: null,
    durationMs: 0,
    promptTokens: null,
    completionTokens: null,
    tokensPerSecond: null,
    attempts: 0,
  };
  let totalMs = ctx.timeouts.totalMs;
  const onTotal = () =>
    abort.abort(
      new GatewayTimeoutError(
        'total',
        totalMs,
        `The request took longer than ${totalMs} ms (timeouts.totalMs).`,
      ),
    );
  let totalTimer = setTimeout(onTotal, totalMs);
  let lease: Lease | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  let tap: ResponseTap | undefined;
  let sentAt: number | null = null;
  /** The retry's own connection, destroyed when the response ends however it ends (so an abort reaches it). */
  let retryClient: Client | undefined;
  const releaseLease = async () => {
    clearInterval(renewTimer);
    const held = lease;
    lease = undefined;
    if (held) await Promise.resolve(ctx.kernel.releaseLease(held.leaseRef)).catch(() => {});
  };
  try {
    const raw = await readRequestBody(req, ctx.bodyLimitBytes, 'gateway.bodyLimitBytes');
    const body = parseBody(raw);
    record.model = body.model;
    record.stream = body.stream === true;
    const deployment = ctx.router.resolve(body.model);
    record.deployment = deployment;
    const d = ctx.catalog.get(deployment);
    const timeouts: GatewayTimeouts = { ...ctx.timeouts, ...d.timeouts };
    if (timeouts.totalMs !== totalMs) {
      totalMs = timeouts.totalMs;
      clearTimeout(totalTimer);
      totalTimer = setTimeout(onTotal, Math.max(0, totalMs - (performance.now() - t0)));
    }
    ctx.events.emit('request.started', {
      requestId,
      model: body.model,
      deployment,
      at: Date.now(),
      route: record.route,
      stream: record.stream,
    });

    let response: Awaited<ReturnType<typeof sendUpstream>> | undefined;
    let endpoint: EndpointDescriptor | undefined;
    for (let attempt = 1; !response; attempt++) {
      const notice =
        record.stream && ctx.streamLoadProgress
          ? new LoadProgressComments(res, ctx.kernel, deployment)
          : undefined;
      let ensured: Ensured;
      try {
        ensured = await ensureModel(ctx, deployment, requestId, timeouts, abort.signal);
      } finally {
        notice?.stop();
      }
      lease = ensured.lease;
      endpoint = ensured.endpoint;
      record.instanceId = ensured.lease.instanceId;
      record.waitMs = (record.waitMs ?? 0) + ensured.waitMs;
      record.coldStart ||= ensured.coldStart;
      record.attempts = attempt;
      const ref = ensured.lease.leaseRef;
      // A streaming answer can outlive the lease TTL: renew it well before it runs out.
      renewTimer = setInterval(
        () => void Promise.resolve(ctx.kernel.renewLease(ref)).catch(() => {}),
        Math.max(250, Math.floor(ctx.leaseTtlMs / 3)),
      );
      // An attached server (Ollama, a remote OpenAI server) serves many models and needs its own name; a spawned
      // one serves one model, so the client's bytes go as they are unless upstreamModel says otherwise.
      const upstreamModel =
        d.upstreamModel ??
        (endpoint.managementMode === 'externally_managed' ? (endpoint.modelIdentity ?? null) : null);
      sentAt = performance.now();
      // The retry goes over a new connection: the failure may have been a pooled keep-alive socket the server had
      // already closed, and the pool may hold more of them.
      if (attempt > 1) retryClient = new Client(new URL(endpoint.baseUrl).origin, { pipelining: 1 });
      try {
        response = await sendUpstream(retryClient ?? ctx.dispatcher, {
          endpoint,
          path,
          body: rewriteBody(raw, body, { model: upstreamModel, set: d.setParams, strip: d.stripParams }),
          accept: req.headers.accept,
          firstByteMs: timeouts.firstByteMs,
          idleMs: timeouts.idleMs,
          signal: abort.signal,
        });
      } catch (error) {
        if (attempt > 1 || !failedBeforeResponse(error)) throw error;
        ctx.logger.info(
          { requestId, deployment, instanceId: record.instanceId, err: error },
          'gateway: upstream failed before answering; ensuring again and retrying once',
        );
        await releaseLease();
      }
    }

    record.httpStatus = response.statusCode;
    if (res.headersSent && response.statusCode !== 200) {
      // Committed to SSE by the load notice: the upstream's error can only travel as an event.
      const text = await response.body.text();
      throw new UpstreamFailedError(
        `The model server answered ${response.statusCode}: ${text.slice(0, 500)}`,
        {
          details: { status: response.statusCode },
        },
      );
    }
    if (!res.headersSent) res.writeHead(response.statusCode, passThroughHeaders(response.headers));
    const upstreamAt = endpoint!;
    tap = new ResponseTap(String(response.headers['content-type'] ?? ''), () => {
      record.ttftMs = performance.now() - t0;
      ctx.events.emit('request.first_token', {
        requestId,
        model: record.model,
        deployment,
        at: Date.now(),
        instanceId: record.instanceId ?? upstreamAt.healthRef,
        ttftMs: record.ttftMs,
        waitMs: record.waitMs ?? 0,
      });
    });
    const watch = tap;
    try {
      await relayBody(response.body, res, (chunk) => watch.observe(chunk), CLIENT_GONE);
    } catch (error) {
      if (abort.signal.aborted) throw abort.signal.reason;
      if (error === CLIENT_GONE) throw error;
      throw upstreamError(error, { endpoint: upstreamAt, ...timeouts });
    }
    if (response.statusCode >= 400) {
      record.outcome = 'failed';
      record.errorCode = 'upstream_error';
      record.errorMessage = `The model server answered ${response.statusCode}.`;
    }
  } catch (error) {
    const reason = abort.signal.aborted ? abort.signal.reason : error;
    const clientGone =
      reason === CLIENT_GONE || (KernelError.isInstance(reason) && reason.code === 'client_closed');
    record.outcome = clientGone ? 'aborted' : 'failed';
    const answer = toOpenAiError(reason);
    record.errorCode = answer.body.error.code;
    record.errorMessage = answer.body.error.message;
    if (!res.headersSent && !res.destroyed) {
      record.httpStatus = answer.status;
      writeError(res, answer, !req.complete);
    } else if (record.ttftMs === null && !res.writableEnded && !res.destroyed) {
      // Only load-progress comments went out: the error still reaches the client, as an SSE event.
      record.httpStatus ??= 200;
      res.end(`data: ${JSON.stringify(answer.body)}\n\n`);
    } else if (!res.writableFinished) {
      // Bytes already reached the client: the only honest signal left is a cut connection.
      res.destroy();
    }
    if (!clientGone && answer.status >= 500) {
      ctx.logger.warn(
        { requestId, deployment: record.deployment, code: record.errorCode, err: reason },
        'gateway request failed',
      );
    }
  } finally {
    clearTimeout(totalTimer);
    // The lease and the record first, in the same tick as the response's end (nothing here waits for I/O), so a
    // client that reads `shic requests` right after its answer finds the request; then the retry's connection.
    const destroyed = retryClient?.destroy().catch(() => {});
    await releaseLease();
    finish(ctx, record, tap, t0, sentAt);
    await destroyed;
  }
}

async function ensureModel(
  ctx: ProxyContext,
  deployment: string,
  requestId: string,
  timeouts: GatewayTimeouts,
  signal: AbortSignal,
): Promise<Ensured> {
  const waiting = ctx.waiting.get(deployment) ?? 0;
  if (waiting >= ctx.maxQueue) {
    throw new QueueFullError(deployment, waiting, Math.max(1, Math.ceil(timeouts.modelWaitMs / 1000 / 10)));
  }
  ctx.waiting.set(deployment, waiting + 1);
  const waitAbort = new AbortController();
  const timer = setTimeout(
    () =>
      waitAbort.abort(
        new GatewayTimeoutError(
          'model_wait',
          timeouts.modelWaitMs,
          `"${deployment}" was not available within ${timeouts.modelWaitMs} ms (timeouts.modelWaitMs): it is loading or all its lease slots are taken.`,
          { details: { deployment } },
        ),
      ),
    timeouts.modelWaitMs,
  );
  const startedAt = Date.now();
  const t = performance.now();
  try {
    const call = ctx.catalog.endpointCall(deployment, {
      ownerRef: `gateway:${requestId}`,
      ttlMs: ctx.leaseTtlMs,
      capacityWaitMs: timeouts.modelWaitMs,
      context: { runId: 'shic-gateway', attemptId: requestId },
    });
    const { endpoint, lease } = await ctx.kernel.ensureEndpoint(
      call.request,
      GATEWAY_CONSUMER,
      call.context,
      {
        ...call.options,
        signal: AbortSignal.any([signal, waitAbort.signal]),
      },
    );
    const waitMs = performance.now() - t;
    // Only a slow ensure can have waited for a load; a warm one returns in microseconds.
    const readyAt = waitMs > 5 ? ctx.kernel.lookupInstance(lease.instanceId)?.readyAt : null;
    return { endpoint, lease, waitMs, coldStart: typeof readyAt === 'number' && readyAt >= startedAt };
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (waitAbort.signal.aborted) throw waitAbort.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    const left = (ctx.waiting.get(deployment) ?? 1) - 1;
    if (left > 0) ctx.waiting.set(deployment, left);
    else ctx.waiting.delete(deployment);
  }
}

function writeError(res: ServerResponse, answer: ReturnType<typeof openAiError>, closeAfter: boolean): void {
  writeJson(res, answer.status, answer.body, {
    ...answer.headers,
    ...(closeAfter ? { connection: 'close' } : {}),
  });
}

function finish(
  ctx: ProxyContext,
  record: RequestRecord,
  tap: ResponseTap | undefined,
  t0: number,
  sentAt: number | null,
): void {
  record.durationMs = performance.now() - t0;
  if (tap) {
    const usage = tap.usage();
    record.promptTokens = usage.promptTokens;
    record.completionTokens = usage.completionTokens;
    // A stream generates between its first and last byte; a plain answer between the request and its last byte.
    const from = record.stream ? tap.firstByteAt : sentAt;
    const generating = tap.lastByteAt !== null && from !== null ? tap.lastByteAt - from : 0;
    if (usage.completionTokens !== null && generating > 0) {
      record.tokensPerSecond = usage.completionTokens / (generating / 1000);
    }
  }
  ctx.requests.add(record);
  const name = `request.${record.outcome}` as `request.${RequestOutcome}`;
  ctx.events.emit(name, { ...record, at: Date.now() });
}
