// The Ollama stand-in answers as Ollama does (api/types.go, server/routes.go), and the backend handles each of
// those answers: streamed pull failures, keep_alive as Ollama parses it, show's capabilities and context
// length, ps's context_length, multi-layer pulls, and a closed port that fails fast.

import type { ReadinessResult } from 'self-hosted-inference-core';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createOllamaBackend, parseOllamaAttachSpec } from '../../../backends/ollama/index.js';
import { waitUntil } from '../../support/wait-until.js';
import { type OllamaStandIn, startOllamaStandIn } from './ollama-stand-in-process.js';
import { probeContext, targetFor } from './ollama-test-target.js';

let standIn: OllamaStandIn | undefined;
afterEach(async () => {
  await standIn?.kill();
  standIn = undefined;
});

async function post(path: string, body: unknown) {
  const response = await request(`${standIn!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, text: await response.body.text() };
}

describe('the Ollama stand-in follows Ollama', () => {
  it('streams an unknown model pull as 200 NDJSON ending in an error line', async () => {
    standIn = await startOllamaStandIn(['--unpullable', 'nope']);
    const pull = await post('/api/pull', { model: 'nope' });
    expect(pull.status).toBe(200);
    expect(
      pull.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ status: 'pulling manifest' }, { error: 'pull model manifest: file does not exist' }]);
  });

  it('parses keep_alive like Go: numbers are seconds, strings need units, anything else is a 400', async () => {
    standIn = await startOllamaStandIn(['--models', 'tiny']);
    for (const keepAlive of ['abc', '30', '5 m', true]) {
      const answer = await post('/api/generate', { model: 'tiny', keep_alive: keepAlive });
      expect(answer.status, String(keepAlive)).toBe(400);
      expect(JSON.parse(answer.text).error).toEqual(expect.any(String));
    }
    for (const keepAlive of ['30m', '1h30m', '-1m', '0', 60, -1, '1.5s']) {
      expect(
        (await post('/api/generate', { model: 'tiny', keep_alive: keepAlive })).status,
        String(keepAlive),
      ).toBe(200);
    }
  });

  it('answers /api/show without a model with 400, and with capabilities and the context length', async () => {
    standIn = await startOllamaStandIn(['--models', 'tiny', '--loaded', 'tiny']);
    expect((await post('/api/show', {})).status).toBe(400);
    const shown = JSON.parse((await post('/api/show', { model: 'tiny' })).text);
    expect(shown.capabilities).toContain('completion');
    expect(shown.model_info['llama.context_length']).toBeGreaterThan(0);
    const ps = JSON.parse(await (await request(`${standIn.url}/api/ps`)).body.text());
    expect(ps.models[0].context_length).toBeGreaterThan(0);
  });
});

describe('the Ollama backend against those answers', () => {
  it("fails an attach with pull: true on a streamed pull error, with Ollama's message (stand-in)", async () => {
    standIn = await startOllamaStandIn(['--unpullable', 'nope']);
    const backend = createOllamaBackend({ rootUrl: standIn.url, pull: true });
    const target = await targetFor(backend, { modelIdentity: 'nope' });
    const result = await waitUntil(
      async () => {
        const r = await backend.probeReadiness(target, probeContext());
        return r.status === 'failed' ? r : undefined;
      },
      { timeoutMs: 20_000, message: 'the pull to fail' },
    );
    expect(result.error.code).toBe('model_not_found');
    expect(result.error.message).toContain('file does not exist');
  });

  it('refuses a keepAlive Ollama would reject, before anything is sent', () => {
    for (const keepAlive of ['abc', '30', '5 m']) {
      expect(
        () =>
          parseOllamaAttachSpec(
            { backend: 'ollama', backendOptions: { keepAlive }, modelIdentity: 'm', metadata: {} },
            {},
            {},
          ),
        String(keepAlive),
      ).toThrow(expect.objectContaining({ code: 'invalid_boot_spec' }));
    }
    for (const keepAlive of ['30m', '1h30m', '-1m', '0', 60, -1]) {
      expect(
        parseOllamaAttachSpec(
          { backend: 'ollama', backendOptions: { keepAlive }, modelIdentity: 'm', metadata: {} },
          {},
          {},
        ).keepAlive,
      ).toBe(keepAlive);
    }
  });

  it('reports the model capabilities and context length when ready (stand-in)', async () => {
    standIn = await startOllamaStandIn(['--models', 'tiny']);
    const backend = createOllamaBackend({ rootUrl: standIn.url });
    const result = await backend.probeReadiness(
      await targetFor(backend, { modelIdentity: 'tiny' }),
      probeContext(),
    );
    expect(result).toMatchObject({
      status: 'ready',
      metadata: { modelCapabilities: ['completion'], contextLength: 512 },
    });
  });

  it('fails with service_unreachable once connections are refused for connectTimeoutMs, not at the ready timeout', async () => {
    standIn = await startOllamaStandIn([]);
    const url = standIn.url;
    await standIn.kill();
    const backend = createOllamaBackend({ rootUrl: url, connectTimeoutMs: 300 });
    const target = await targetFor(backend, { modelIdentity: 'tiny' });
    expect(target.plan.readyTimeoutMs).toBe(60_000);
    const first = await backend.probeReadiness(target, probeContext());
    expect(first.status).toBe('pending');
    const failed = await waitUntil(
      async () => {
        const r: ReadinessResult = await backend.probeReadiness(target, probeContext());
        return r.status === 'failed' ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, message: 'the refused attach to fail' },
    );
    expect(failed.error.code).toBe('service_unreachable');
    expect(failed.error.message).toContain('ollama serve');
  });
});
