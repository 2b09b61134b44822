// The Ollama backend under the real kernel: a stand-in daemon in front of a real llama-server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import getPort from 'get-port';
import OpenAI from 'openai';
import { pino } from 'pino';
import { createKernel, exposeSecret, type Kernel, type ProgressReport } from 'self-hosted-inference-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOllamaBackend } from '../../../backends/ollama/index.js';
import { type LlamaUpstream, startLlamaUpstream } from '../../support/start-llama-upstream.js';
import { waitUntil } from '../../support/wait-until.js';
import { type OllamaStandIn, startOllamaStandIn } from './ollama-stand-in-process.js';

const SECRET = 'sk-ollama-secret-7f3a9c';
let llama: LlamaUpstream | undefined;
let upstream = '';
let stateDir = '';
const logLines: string[] = [];
const logger = pino(
  { level: 'trace' },
  new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(String(chunk));
      callback();
    },
  }),
);

beforeAll(async () => {
  llama = await startLlamaUpstream(['--ctx-size', '512']);
  upstream = llama.url;
  stateDir = await mkdtemp(join(tmpdir(), 'ollama-lifecycle-'));
});

afterAll(async () => {
  await llama?.kill();
  await rm(stateDir, { recursive: true, force: true });
});

const standIns: OllamaStandIn[] = [];
const kernels: Kernel[] = [];
async function standIn(flags: string[]): Promise<OllamaStandIn> {
  const s = await startOllamaStandIn(flags);
  standIns.push(s);
  return s;
}
function kernel(): Kernel {
  const k = createKernel({ stateDir, logger, backends: [createOllamaBackend()], watchdog: false });
  kernels.push(k);
  return k;
}
afterEach(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.close()));
  await Promise.all(standIns.splice(0).map((s) => s.kill()));
});

describe('createOllamaBackend with the kernel', () => {
  it('leases the endpoint through ensureEndpoint, serves a real chat completion through /v1, releases, and leaves the daemon running after close (Ollama stand-in, real llama-server upstream)', async () => {
    const daemon = await standIn(['--models', 'tiny', '--upstream', upstream, '--api-key', SECRET]);
    const k = kernel();
    const { endpoint, lease, compatibility } = await k.ensureEndpoint(
      {
        requestId: 'req-ollama',
        targetPreference: { backend: 'ollama', backendOptions: { rootUrl: daemon.url, apiKey: SECRET } },
        modelPreference: { id: 'tiny' },
      },
      {
        consumer: 'ollama-lifecycle-test',
        acceptedRuntimeKinds: ['service'],
        acceptedManagementModes: ['externally_managed'],
        acceptedProtocols: ['openai_chat_completions'],
        requiredCapabilities: { streaming: true },
      },
      { runId: 'run-ollama', attemptId: 'attempt-1', observability: { traceId: 'trace-ollama' } },
      { ownerRef: 'ollama-test', ttlMs: 60_000 },
    );
    expect(compatibility).toMatchObject({ compatible: true, resolvedManagementMode: 'externally_managed' });
    expect(endpoint).toMatchObject({
      baseUrl: `${daemon.url}/v1`,
      sourceRuntimeRef: daemon.url,
      modelIdentity: 'tiny',
      managementMode: 'externally_managed',
      leaseRef: lease.leaseRef,
    });
    expect(lease).toMatchObject({ ownerRef: 'ollama-test', ttlMs: 60_000 });
    expect(lease.metadata).toMatchObject({
      requestId: 'req-ollama',
      runId: 'run-ollama',
      traceId: 'trace-ollama',
    });
    const instance = k.lookupInstance(lease.instanceId)!;
    expect(instance).toMatchObject({
      state: 'ready',
      startupKind: 'attach_existing_service',
      managementMode: 'externally_managed',
      leaseCount: 1,
    });
    expect(instance.pid).toBeUndefined();

    const client = new OpenAI({
      baseURL: endpoint.baseUrl,
      apiKey: exposeSecret(endpoint.headers.authorization!).replace(/^Bearer /, ''),
    });
    const chat = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Say hello' }],
      max_tokens: 8,
    });
    expect(typeof chat.choices[0]?.message.content).toBe('string');
    expect(chat.usage?.completion_tokens).toBeGreaterThan(0);

    expect(k.releaseLease(lease.leaseRef)).toBe(true);
    expect(k.lookupLease(lease.leaseRef)).toBeUndefined();
    expect(k.lookupInstance(lease.instanceId)?.leaseCount).toBe(0);
    expect(k.releaseLease(lease.leaseRef)).toBe(false);

    expect(JSON.stringify({ endpoint, lease })).not.toContain(SECRET);
    const snapshotJson = JSON.stringify(k.listInstances());
    await k.close();
    const closedAt = Date.now();
    const seen = await daemon.requests();
    const version = await fetch(`${daemon.url}/api/version`, {
      headers: { authorization: `Bearer ${SECRET}` },
    });
    expect(version.status).toBe(200);
    expect(seen.filter((r) => r.at > closedAt)).toEqual([]);
    expect(seen.filter((r) => r.path === '/api/generate' || r.path === '/api/delete')).toEqual([]);
    expect(seen.some((r) => r.path === '/v1/chat/completions')).toBe(true);

    expect(instance.instanceKey).not.toContain(SECRET);
    expect(snapshotJson).not.toContain(SECRET);
    expect(logLines.join('')).not.toContain(SECRET);
    expect(logLines.length).toBeGreaterThan(0);
  });

  it('fails at the ready timeout with model_not_found and the pull hint (Ollama stand-in)', async () => {
    const daemon = await standIn(['--models', 'other']);
    const k = kernel();
    const started = k.ensureInstance(
      { backend: 'ollama', modelIdentity: 'llama3.2:1b', backendOptions: { rootUrl: daemon.url } },
      { readyTimeoutMs: 1_500 },
    );
    await expect(started).rejects.toMatchObject({
      code: 'model_not_found',
      message: expect.stringContaining('ollama pull llama3.2:1b'),
    });
    expect((await daemon.requests()).some((r) => r.path === '/api/pull')).toBe(false);
  });

  it('with pull: true emits pulling progress, then is ready (Ollama stand-in)', async () => {
    const daemon = await standIn(['--pull-steps', '6', '--pull-step-ms', '30']);
    const k = kernel();
    const progress: ProgressReport[] = [];
    k.on('instance.progress', (event) => progress.push(event));
    const { instance } = await k.ensureInstance({
      backend: 'ollama',
      modelIdentity: 'fresh',
      backendOptions: { rootUrl: daemon.url, pull: true },
    });
    expect(instance.state).toBe('ready');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.phase === 'pulling')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ percent: 100 });
    expect((await daemon.requests()).filter((r) => r.path === '/api/pull')).toHaveLength(1);
  });

  it('goes degraded when the model is unloaded or the daemon dies, never stopped, and recovers (Ollama stand-in)', async () => {
    const port = await getPort();
    const flags = ['--port', String(port), '--models', 'tiny', '--loaded', 'tiny'];
    const daemon = await standIn(flags);
    const k = kernel();
    const { instance } = await k.ensureInstance({
      backend: 'ollama',
      modelIdentity: 'tiny',
      backendOptions: { rootUrl: `127.0.0.1:${port}`, healthIntervalMs: 50 },
    });
    const id = instance.instanceId;
    const snap = () => k.lookupInstance(id)!;

    await fetch(`${daemon.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'tiny', keep_alive: 0 }),
    });
    await waitUntil(() => snap().state === 'degraded', { message: 'degraded after unload' });
    expect(snap()).toMatchObject({ health: 'degraded', healthDetail: 'model installed but not loaded' });

    await fetch(`${daemon.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'tiny', keep_alive: -1 }),
    });
    await waitUntil(() => snap().state === 'ready' && snap().health === 'healthy', {
      message: 'recovery after load',
    });

    await daemon.kill();
    await waitUntil(() => snap().health === 'unavailable' && snap().state === 'degraded', {
      message: 'daemon loss',
    });
    expect(snap().state).not.toBe('stopped');

    await standIn(flags);
    await waitUntil(() => snap().state === 'ready' && snap().health === 'healthy', {
      message: 'daemon back',
    });
  });
});
