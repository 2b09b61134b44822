// The MLX backend under the real kernel, spawning the mlx_lm.server stand-in (allowUnsupportedPlatform).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createKernel } from 'self-hosted-inference-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMlxBackend } from '../../../backends/mlx/index.js';
import { MLX_STAND_IN, mlxStandInLog } from './mlx-stand-in-process.js';

const LOAD_DELAY_MS = 1_500;
let stateDir = '';
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'mlx-lifecycle-'));
});
afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('createMlxBackend with the kernel', () => {
  it('is not called ready before completions work, though /health answered 200 at once (mlx_lm.server stand-in)', async () => {
    const kernel = createKernel({ stateDir, backends: [createMlxBackend()], watchdog: false });
    try {
      const readyEvents: number[] = [];
      kernel.on('instance.ready', (event) => readyEvents.push(event.at));
      const { instance } = await kernel.ensureInstance({
        backend: 'mlx',
        bootSpec: {
          model: 'mlx-community/tiny-stand-in',
          allowUnsupportedPlatform: true,
          command: [process.execPath, MLX_STAND_IN, '--load-delay-ms', String(LOAD_DELAY_MS)],
        },
      });
      expect(instance).toMatchObject({
        state: 'ready',
        startupKind: 'spawned',
        managementMode: 'kernel_managed',
      });
      expect(instance.pid).toBeGreaterThan(0);
      const origin = instance.endpoint!.baseUrl.replace(/\/v1$/, '');

      // The probe results: every completion before the model loaded was refused, the ready one came after.
      const log = await mlxStandInLog(origin);
      const probes = log.requests.filter((r) => r.path === '/v1/completions');
      expect(probes.length).toBeGreaterThan(1);
      expect(probes.slice(0, -1).every((r) => r.status === 503 && r.at < log.loadedAt)).toBe(true);
      expect(probes.at(-1)).toMatchObject({ status: 200 });
      expect(probes.at(-1)!.at).toBeGreaterThanOrEqual(log.loadedAt);
      expect(log.loadedAt - log.startedAt).toBe(LOAD_DELAY_MS);
      expect(readyEvents).toHaveLength(1);

      const client = new OpenAI({ baseURL: instance.endpoint!.baseUrl, apiKey: 'unused' });
      const first = await client.completions.create({
        model: 'mlx-community/tiny-stand-in',
        prompt: 'Hi',
        max_tokens: 2,
      });
      expect(first.choices[0]?.text.length).toBeGreaterThan(0);
      const chat = await client.chat.completions.create({
        model: 'mlx-community/tiny-stand-in',
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 2,
      });
      expect(chat.choices[0]?.message.content?.length).toBeGreaterThan(0);
    } finally {
      await kernel.close();
    }
  });

  it('refuses to start on this machine without allowUnsupportedPlatform, spawning nothing', async () => {
    const kernel = createKernel({
      stateDir,
      backends: [createMlxBackend({ machine: { platform: 'linux', arch: 'x64' } })],
      watchdog: false,
    });
    try {
      const spawned: unknown[] = [];
      kernel.on('instance.spawned', (event) => spawned.push(event));
      await expect(
        kernel.ensureInstance({
          backend: 'mlx',
          bootSpec: { model: 'mlx-community/tiny', command: [process.execPath, MLX_STAND_IN] },
        }),
      ).rejects.toMatchObject({ code: 'platform_unsupported' });
      expect(spawned).toEqual([]);
      expect(kernel.listInstances().filter((i) => i.state !== 'failed' && i.state !== 'stopped')).toEqual([]);
    } finally {
      await kernel.close();
    }
  });
});
