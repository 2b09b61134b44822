// Gateway keys on a real kernel (no model needed: auth is decided before routing) and the daemon's refusal of
// an open gateway beyond loopback.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  createGateway,
  createKernel,
  type GatewayServer,
  type Kernel,
  parseConfigText,
  startGatewayServer,
} from 'self-hosted-inference-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/control/control-daemon.js';

const KEY = 'gw-key-5f3a9c1e7b';
let dir: string;
let kernel: Kernel;
let server: GatewayServer;
const logs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shic-gateway-auth-'));
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _e, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  kernel = createKernel({ stateDir: dir, logger });
  const gateway = createGateway({
    kernel,
    deployments: { tiny: { backend: 'llama-cpp', bootSpec: { model: '/nonexistent.gguf' } } },
    config: { apiKeys: [KEY] },
    logger,
  });
  server = await startGatewayServer({ gateway, logger });
});
afterAll(async () => {
  await server?.close(0);
  await kernel?.close();
  await rm(dir, { recursive: true, force: true });
});

const call = (path: string, authorization?: string) =>
  request(`${server.url}${path}`, {
    method: path.endsWith('models') ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    ...(path.endsWith('models') ? {} : { body: JSON.stringify({ model: 'nope', messages: [] }) }),
  });

describe('gateway API keys', () => {
  it('refuses requests without the key or with a wrong one (401 invalid_api_key), lets the key through', async () => {
    for (const auth of [undefined, 'Bearer wrong-key-000000', `Basic ${KEY}`]) {
      const res = await call('/chat/completions', auth);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(await res.body.json()).toMatchObject({
        error: { code: 'invalid_api_key', type: 'authentication_error' },
      });
    }
    const models = await call('/models', `Bearer ${KEY}`);
    expect(models.statusCode).toBe(200);
    expect(await models.body.json()).toMatchObject({
      object: 'list',
      data: [{ id: 'tiny', state: 'unloaded' }],
    });
    const unknown = await call('/chat/completions', `Bearer ${KEY}`);
    expect(unknown.statusCode).toBe(404);
    await unknown.body.dump();
    const malformed = await request(`${server.url}/models/%E0%A4%A`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(malformed.statusCode).toBe(400);
    await malformed.body.dump();
    const one = await request(`${server.url}/models/tiny`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(await one.body.json()).toMatchObject({ id: 'tiny', object: 'model', state: 'unloaded' });
    const health = await request(`${server.url.replace(/\/v1$/, '')}/health`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
    expect(logs.join('')).not.toContain(KEY);
  });

  it('shic up refuses a gateway beyond loopback without keys, naming gateway.apiKeys, before anything starts', async () => {
    const loaded = parseConfigText('gateway:\n  host: 0.0.0.0\n', { baseDir: dir });
    loaded.stateDir = join(dir, 'state-open');
    await expect(startDaemon({ loaded, logger: pino({ level: 'silent' }) })).rejects.toMatchObject({
      code: 'invalid_config',
      issues: [expect.objectContaining({ path: 'gateway.apiKeys' })],
    });
  });
});
