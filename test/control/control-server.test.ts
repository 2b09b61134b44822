import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pWaitFor from 'p-wait-for';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigObject } from '../../src/config/load-config.js';
import { parseSse } from '../../src/control/control-client.js';
import { type Daemon, startDaemon } from '../../src/control/control-daemon.js';
import { isLoopbackHost } from '../../src/control/control-server.js';
import { realLlamaServer } from '../support/llama-fixture.js';

let dir: string;
let daemon: Daemon;
let url: string;
let auth: { authorization: string };

async function call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, headers = auth) {
  const response = await request(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text, json: () => JSON.parse(text) };
}

// Checks the Prometheus text exposition format line by line and returns the samples.
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(
        line,
      );
    if (!match) throw new Error(`not Prometheus exposition format: ${JSON.stringify(line)}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

beforeAll(async () => {
  const { binaryPath, modelPath } = await realLlamaServer();
  dir = await mkdtemp(join(tmpdir(), 'shic-control-'));
  const loaded = parseConfigObject(
    {
      stateDir: join(dir, 'state'),
      control: { bodyLimitBytes: 4096 },
      deployments: {
        tiny: {
          backend: 'llama-cpp',
          start: 'on-demand',
          modelIdentity: 'tiny',
          bootSpec: { model: modelPath, binaryPath, ctxSize: 256, apiKey: 'generate' },
          lease: { ttlMs: 30_000 },
        },
      },
    },
    { env: {} },
  );
  daemon = await startDaemon({ loaded, logger: pino({ level: 'silent' }) });
  url = daemon.server.url;
  auth = { authorization: `Bearer ${daemon.token}` };
});

afterAll(async () => {
  await daemon?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('startControlServer', () => {
  it('binds to loopback by default', () => {
    expect(daemon.server.host).toBe('127.0.0.1');
    expect(isLoopbackHost(daemon.server.host)).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
  });

  it('answers GET /healthz without a token', async () => {
    const res = await call('GET', '/healthz', undefined, {} as typeof auth);
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', pid: process.pid });
  });

  it('rejects a missing, wrong or wrong-length bearer token with 401 unauthorized', async () => {
    const wrong = `${daemon.token.slice(0, -1)}${daemon.token.endsWith('A') ? 'B' : 'A'}`;
    for (const headers of [
      {},
      { authorization: `Bearer ${wrong}` },
      { authorization: 'Bearer x' },
      { authorization: daemon.token },
    ]) {
      const res = await call('GET', '/v1/instances', undefined, headers as typeof auth);
      expect(res.status).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
    expect((await call('GET', '/metrics', undefined, {} as typeof auth)).status).toBe(401);
  });

  it('rejects a bad ensure body with 400 naming the field path', async () => {
    const full = await call('POST', '/v1/endpoints/ensure', {
      request: { requestId: 'r1', targetPreference: { backend: '' } },
      consumer: {
        consumer: 'c',
        acceptedRuntimeKinds: ['service'],
        acceptedManagementModes: ['kernel_managed'],
        acceptedProtocols: ['openai_chat_completions'],
      },
      context: { runId: 'run', attemptId: 'a' },
      options: { ownerRef: 'me' },
    });
    expect(full.status).toBe(400);
    expect(full.json().error.code).toBe('invalid_request');
    expect(full.json().error.details.issues.map((i: { path: string }) => i.path)).toContain(
      'request.targetPreference.backend',
    );
    const byName = await call('POST', '/v1/endpoints/ensure', { deployment: 'tiny', ttlMs: 'soon' });
    expect(byName.status).toBe(400);
    expect(byName.json().error.details.issues[0].path).toBe('ttlMs');
    const notJson = await call('POST', '/v1/endpoints/ensure', '{"deployment":');
    expect(notJson.status).toBe(400);
    expect(notJson.json().error.code).toBe('invalid_json');
  });

  it('rejects a body over the limit with 413 body_too_large', async () => {
    const res = await call('POST', '/v1/endpoints/ensure', { deployment: 'tiny', padding: 'x'.repeat(8192) });
    expect(res.status).toBe(413);
    expect(res.json().error.code).toBe('body_too_large');
  });

  it('answers a non-JSON body with 415 and a huge request line with 431, both in the API error shape', async () => {
    const plain = await request(`${url}/v1/endpoints/ensure`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: '{"deployment":"tiny"}',
    });
    expect(plain.statusCode).toBe(415);
    expect(((await plain.body.json()) as { error: { code: string } }).error.code).toBe(
      'unsupported_media_type',
    );
    const huge = await request(`${url}/v1/instances/${'x'.repeat(20_000)}`, { headers: auth });
    expect(huge.statusCode).toBe(431);
    expect(await huge.body.json()).toMatchObject({ error: { code: 'headers_too_large', details: {} } });
  });

  it('answers 404 for an unknown instance, lease, deployment or route', async () => {
    const cases: [string, string, unknown, string][] = [
      ['GET', '/v1/instances/nope', undefined, 'instance_not_found'],
      ['POST', '/v1/instances/nope/stop', {}, 'instance_not_found'],
      ['GET', '/v1/instances/nope/logs', undefined, 'instance_not_found'],
      ['POST', '/v1/leases/nope/renew', {}, 'lease_not_found'],
      ['POST', '/v1/endpoints/ensure', { deployment: 'nope' }, 'unknown_deployment'],
      ['GET', '/v1/nothing', undefined, 'route_not_found'],
    ];
    for (const [method, path, body, code] of cases) {
      const res = await call(method as 'GET', path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json().error.code).toBe(code);
    }
  });

  it('streams instance.ready over SSE, and /metrics changes after an ensure', async () => {
    const before = parsePrometheus((await call('GET', '/metrics')).text);
    expect(before.get('shic_leases')).toBe(0);
    const controller = new AbortController();
    const events = await request(`${url}/v1/events?types=instance.`, {
      headers: auth,
      signal: controller.signal,
    });
    expect(events.headers['content-type']).toMatch(/^text\/event-stream/);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of parseSse(events.body)) {
        seen.push(event.event);
        if (event.event === 'instance.ready') return event.data as { instanceId: string; readyMs: number };
      }
      throw new Error('stream ended before instance.ready');
    })();
    reading.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    const ensured = await call('POST', '/v1/endpoints/ensure', { deployment: 'tiny', ownerRef: 'test' });
    expect(ensured.status, ensured.text).toBe(200);
    const ready = await reading;
    controller.abort();
    const { endpoint, lease } = ensured.json();
    expect(ready.instanceId).toBe(endpoint.healthRef);
    expect(seen).toContain('instance.starting');
    // The ensure response carries the real auth header; every other view shows it redacted.
    expect(endpoint.headers.authorization).toMatch(/^Bearer [^[]/);
    const listed = (await call('GET', '/v1/instances')).text;
    expect(listed).not.toContain(endpoint.headers.authorization.slice(7));
    expect(listed).toContain('[redacted]');

    const after = parsePrometheus((await call('GET', '/metrics')).text);
    expect(after.get('shic_leases')).toBe(1);
    expect(after.get('shic_instances{state="ready"}')).toBe(1);
    expect(after.get('shic_instance_starts_total{backend="llama-cpp"}')).toBe(1);
    expect(after.get('shic_readiness_seconds_count{backend="llama-cpp"}')).toBe(1);

    const renewed = await call('POST', `/v1/leases/${lease.leaseRef}/renew`, { ttlMs: 60_000 });
    expect(renewed.status).toBe(200);
    expect(renewed.json().lease.ttlMs).toBe(60_000);
    expect((await call('DELETE', `/v1/leases/${lease.leaseRef}`)).status).toBe(200);
    await pWaitFor(
      async () => parsePrometheus((await call('GET', '/metrics')).text).get('shic_leases') === 0,
      {
        timeout: 10_000,
      },
    );

    const logs = await call('GET', `/v1/instances/${ready.instanceId}/logs?n=5`);
    expect(logs.status).toBe(200);
    expect(logs.json().lines.length).toBeGreaterThan(0);
    // Log follow: the tail arrives as SSE `log` events, and the stream ends when the instance stops.
    const follow = await request(`${url}/v1/instances/${ready.instanceId}/logs?n=2&follow=true`, {
      headers: auth,
    });
    const followed: string[] = [];
    const following = (async () => {
      for await (const event of parseSse(follow.body)) followed.push((event.data as { line: string }).line);
    })();
    await pWaitFor(() => followed.length === 2, { timeout: 10_000 });
    const stopped = await call('POST', `/v1/instances/${ready.instanceId}/stop`, {});
    expect(stopped.status).toBe(200);
    expect(stopped.json().instance.state).toBe('stopped');
    await following;
    expect(followed.length).toBeGreaterThanOrEqual(2);
    expect(followed.every((line) => typeof line === 'string')).toBe(true);
  });
});
