import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  type InstanceTarget,
  type PlanContext,
  type ProbeContext,
  parseBackendManifest,
  parseInstanceSpec,
  validateStartupPlan,
} from 'self-hosted-inference-core';
import { afterEach, describe, expect, it } from 'vitest';
import { createMlxBackend, MLX_MANIFEST } from '../../../backends/mlx/index.js';
import { waitUntil } from '../../support/wait-until.js';
import { MLX_STAND_IN, mlxStandInLog, startMlxStandIn } from './mlx-stand-in-process.js';

const silent = pino({ level: 'silent' });
const linux = { platform: 'linux', arch: 'x64' };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

function planContext(ports: number[] = []): PlanContext & { allocated: number } {
  const context = {
    allocated: 0,
    allocatePort: async () => {
      context.allocated++;
      return ports.shift() ?? 40_000;
    },
    signal: new AbortController().signal,
    logger: silent,
  };
  return context;
}
const probeContext = (): ProbeContext => ({
  signal: AbortSignal.timeout(10_000),
  logger: silent,
  reportProgress: () => {},
});

async function targetFor(
  bootSpec: Record<string, unknown>,
  port: number,
  machine = linux,
): Promise<InstanceTarget> {
  const backend = createMlxBackend({ machine });
  const spec = parseInstanceSpec({ backend: 'mlx', bootSpec });
  const plan = validateStartupPlan(
    parseBackendManifest(backend.manifest),
    spec,
    await backend.startupPlan(spec, planContext([port])),
  );
  return { instanceId: 'mlx-test-1', plan, baseUrl: plan.endpointTemplate.baseUrl };
}

describe('createMlxBackend', () => {
  it('declares a spawned backend with chat + completions, streaming, and no API key support', () => {
    expect(createMlxBackend().id).toBe('mlx');
    expect(MLX_MANIFEST).toMatchObject({
      startupKind: 'spawned',
      managementModes: ['kernel_managed'],
      protocols: ['openai_chat_completions', 'openai_completions'],
      capabilities: { streaming: true, apiKey: false },
      supportedSurfaces: ['local_subprocess'],
    });
    expect(MLX_MANIFEST.metadata.apiKey).toContain('no API key support');
  });

  it('refuses to plan on Linux with platform_unsupported, before allocating a port', async () => {
    const backend = createMlxBackend({ machine: linux });
    const context = planContext();
    await expect(
      (async () =>
        backend.startupPlan(parseInstanceSpec({ backend: 'mlx', bootSpec: { model: 'a/b' } }), context))(),
    ).rejects.toMatchObject({ code: 'platform_unsupported' });
    expect(context.allocated).toBe(0);
  });

  it('plans on macOS arm64: exact command line, allocated port, loopback endpoint', async () => {
    const target = await targetFor({ model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit' }, 41_234, {
      platform: 'darwin',
      arch: 'arm64',
    });
    expect(target.plan.transport).toMatchObject({
      command: 'mlx_lm.server',
      args: ['--model', 'mlx-community/Qwen2.5-0.5B-Instruct-4bit', '--host', '127.0.0.1', '--port', '41234'],
      executionSurface: 'local_subprocess',
    });
    expect(target.plan.port).toBe(41_234);
    expect(target.plan.endpointTemplate).toMatchObject({
      baseUrl: 'http://127.0.0.1:41234/v1',
      modelIdentity: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit',
      protocol: 'openai_chat_completions',
    });
  });

  it('keeps the same instance key across port retries and changes it with the boot spec', async () => {
    const a = await targetFor({ model: 'm', allowUnsupportedPlatform: true }, 41_000);
    const b = await targetFor({ model: 'm', allowUnsupportedPlatform: true }, 41_001);
    const c = await targetFor(
      { model: 'm', allowUnsupportedPlatform: true, extraArgs: ['--temp', '0.7'] },
      41_000,
    );
    expect(a.plan.instanceKey).toBe(b.plan.instanceKey);
    expect(a.plan.instanceKey).not.toBe(c.plan.instanceKey);
  });

  it('preflight names a missing mlx_lm.server and how to install it', async () => {
    const backend = createMlxBackend();
    const target = await targetFor(
      { model: 'a/b', allowUnsupportedPlatform: true, env: { PATH: '/nonexistent' } },
      1,
    );
    await expect(backend.preflight!(target.plan, probeContext())).rejects.toMatchObject({
      code: 'binary_not_found',
      message: expect.stringContaining('pip install mlx-lm'),
    });
  });

  it('preflight names a missing local model directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mlx-preflight-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const backend = createMlxBackend();
    const target = await targetFor(
      {
        model: join(dir, 'missing-model'),
        allowUnsupportedPlatform: true,
        command: [process.execPath, MLX_STAND_IN],
      },
      1,
    );
    await expect(backend.preflight!(target.plan, probeContext())).rejects.toMatchObject({
      code: 'model_not_found',
      path: join(dir, 'missing-model'),
    });
  });

  it('is not ready while /health already answers 200, only once a 1-token completion works (mlx_lm.server stand-in)', async () => {
    const standIn = await startMlxStandIn(['--load-delay-ms', '600']);
    cleanups.push(standIn.kill);
    const backend = createMlxBackend();
    const target = await targetFor(
      { model: 'mlx-community/tiny', allowUnsupportedPlatform: true },
      standIn.port,
    );

    const early = await backend.probeReadiness(target, probeContext());
    expect(early).toMatchObject({ status: 'pending', timeoutError: { code: 'readiness_timeout' } });
    expect((early as { detail: string }).detail).toContain('HTTP 503');
    expect((await backend.checkHealth(target, probeContext())).status).toBe('healthy');

    await waitUntil(async () => (await backend.probeReadiness(target, probeContext())).status === 'ready', {
      message: 'the stand-in model to load',
    });
    const log = await mlxStandInLog(standIn.origin);
    const completions = log.requests.filter((r) => r.path === '/v1/completions');
    expect(completions.at(-1)?.status).toBe(200);
    expect(completions.filter((r) => r.status === 200)).toHaveLength(1);
    expect(completions.every((r) => r.status === (r.at >= log.loadedAt ? 200 : 503))).toBe(true);
  });

  it('checkFunctional turns degraded when completions fail while /health stays 200 (mlx_lm.server stand-in)', async () => {
    const standIn = await startMlxStandIn(['--fail-after-ms', '800']);
    cleanups.push(standIn.kill);
    const backend = createMlxBackend();
    const target = await targetFor(
      { model: 'mlx-community/tiny', allowUnsupportedPlatform: true },
      standIn.port,
    );
    const degraded = await waitUntil(
      async () => {
        const result = await backend.checkFunctional!(target, probeContext());
        return result.status === 'degraded' ? result : undefined;
      },
      { message: 'the functional check to fail' },
    );
    expect(degraded.detail).toContain('HTTP 500');
    expect((await backend.checkHealth(target, probeContext())).status).toBe('healthy');
  });

  it('reads bind races, downloads and the server start from mlx_lm.server output', () => {
    const backend = createMlxBackend();
    const target = {} as InstanceTarget;
    expect(
      backend.onProcessEvent!({ type: 'stderr', line: 'OSError: [Errno 48] Address already in use' }, target),
    ).toEqual({
      addressInUse: true,
    });
    expect(
      backend.onProcessEvent!({ type: 'stderr', line: 'Fetching 7 files:  14%|█' }, target)?.progress?.phase,
    ).toBe('downloading');
    expect(
      backend.onProcessEvent!(
        { type: 'stderr', line: 'INFO - Starting httpd at 127.0.0.1 on port 8080...' },
        target,
      ),
    ).toMatchObject({
      progress: { phase: 'loading' },
    });
    expect(backend.onProcessEvent!({ type: 'stdout', line: 'hello' }, target)).toBeUndefined();
  });
});
