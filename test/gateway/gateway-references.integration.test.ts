import { copyFile, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferDeployment } from '../../src/gateway/infer-deployment.js';
import { type GatewayHarness, startGatewayHarness } from './gateway-harness.js';

let h: GatewayHarness;
let allowed: string;
let outside: string;
beforeAll(async () => {
  allowed = await mkdtemp(path.join(tmpdir(), 'shic-refs-allowed-'));
  outside = await mkdtemp(path.join(tmpdir(), 'shic-refs-outside-'));
  h = await startGatewayHarness(() => ({}), {
    modelReferences: { enabled: true, ggufDirs: [allowed] },
    modelDefaults: { bootSpec: { ctxSize: 512 } },
  });
  await symlink(h.modelPath, path.join(outside, 'elsewhere.gguf'));
  // A link inside the allowed folder to a file outside it: the real path decides, so it is refused.
  await symlink(path.join(outside, 'elsewhere.gguf'), path.join(allowed, 'escape.gguf'));
}, 120_000);
afterAll(async () => {
  await h?.close();
  await rm(allowed, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

const chat = async (model: string) => {
  const res = await request(`${h.server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
  });
  return { status: res.statusCode, body: (await res.body.json()) as { error?: { code: string } } };
};

describe('model references (real llama-server)', () => {
  it('serves a *.gguf inside an allowed folder by absolute or relative path, and lists it', async () => {
    await copyFile(h.modelPath, path.join(allowed, 'copy.gguf'));
    expect((await chat(path.join(allowed, 'copy.gguf'))).status).toBe(200);
    expect((await chat('copy.gguf')).status).toBe(200);
    const models = h.gateway.models();
    expect(models.map((m) => m.id)).toEqual([path.join(allowed, 'copy.gguf'), 'copy.gguf']);
    // Both names are the same file and boot spec: one server.
    expect(new Set(h.kernel.listInstances().map((i) => i.instanceKey)).size).toBe(1);
  });

  it('refuses files outside the allowed folders, through .. or a symlink, and non-existent files', async () => {
    for (const model of [
      path.join(outside, 'elsewhere.gguf'),
      `../${path.basename(outside)}/elsewhere.gguf`,
      'escape.gguf',
      'missing.gguf',
      'llama3:8b',
    ]) {
      const { status, body } = await chat(model);
      expect([model, status, body.error?.code]).toEqual([model, 404, 'unknown_model']);
    }
  });
});

describe('inferDeployment', () => {
  const refs = {
    enabled: true,
    ggufDirs: [],
    ollama: true,
    ollamaOptions: { rootUrl: 'http://gpu:11434' },
    mlx: true,
  };
  it('maps name:tag to Ollama and mlx-community repos to mlx, only when enabled', () => {
    expect(inferDeployment('qwen2.5:0.5b', refs, [])).toMatchObject({
      backend: 'ollama',
      modelIdentity: 'qwen2.5:0.5b',
      backendOptions: { rootUrl: 'http://gpu:11434' },
    });
    expect(inferDeployment('mlx-community/Qwen2.5-0.5B-Instruct-4bit', refs, [])).toMatchObject({
      backend: 'mlx',
      bootSpec: { model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit' },
    });
    expect(inferDeployment('gpt-4o', refs, [])).toBeUndefined();
    expect(inferDeployment('qwen2.5:0.5b', { ...refs, ollama: false }, [])).toBeUndefined();
    expect(inferDeployment('qwen2.5:0.5b', { ...refs, enabled: false }, [])).toBeUndefined();
  });
});
