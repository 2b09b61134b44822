import type { ProgressReport, ReadinessResult } from 'self-hosted-inference-core';
import { afterEach, describe, expect, it } from 'vitest';
import { createOllamaBackend } from '../../../backends/ollama/index.js';
import { waitUntil } from '../../support/wait-until.js';
import { type OllamaStandIn, startOllamaStandIn } from './ollama-stand-in-process.js';
import { probeContext, targetFor } from './ollama-test-target.js';

let standIn: OllamaStandIn | undefined;
afterEach(async () => {
  await standIn?.kill();
  standIn = undefined;
});

describe('probeOllamaReadiness', () => {
  it('is ready with the daemon version once /api/version and /api/show answer (Ollama stand-in)', async () => {
    standIn = await startOllamaStandIn(['--models', 'tiny', '--version', '0.6.2']);
    const backend = createOllamaBackend({ rootUrl: standIn.url });
    const target = await targetFor(backend, { modelIdentity: 'tiny' });
    const result = await backend.probeReadiness(target, probeContext());
    expect(result).toMatchObject({ status: 'ready', metadata: { ollamaVersion: '0.6.2' } });
    const paths = (await standIn.requests()).map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(['GET /api/version', 'POST /api/show']);
    expect((await standIn.requests())[1]?.body).toEqual({ model: 'tiny' });
  });

  it('stays pending with a model_not_found timeout error carrying the pull hint (Ollama stand-in)', async () => {
    standIn = await startOllamaStandIn(['--models', 'other']);
    const backend = createOllamaBackend({ rootUrl: standIn.url });
    const target = await targetFor(backend, { modelIdentity: 'llama3.2:1b' });
    const result = await backend.probeReadiness(target, probeContext());
    expect(result.status).toBe('pending');
    const { timeoutError } = result as Extract<ReadinessResult, { status: 'pending' }>;
    expect(timeoutError?.code).toBe('model_not_found');
    expect(timeoutError?.message).toContain('"llama3.2:1b"');
    expect(timeoutError?.message).toContain('ollama pull llama3.2:1b');
    expect((await standIn.requests()).some((r) => r.path === '/api/pull')).toBe(false);
  });

  it('stays pending with a hint to start the daemon when nothing listens', async () => {
    standIn = await startOllamaStandIn([]);
    const url = standIn.url;
    await standIn.kill();
    const backend = createOllamaBackend({ rootUrl: url });
    const result = await backend.probeReadiness(
      await targetFor(backend, { modelIdentity: 'tiny' }),
      probeContext(),
    );
    expect(result).toMatchObject({ status: 'pending', timeoutError: { code: 'readiness_timeout' } });
    expect((result as { timeoutError: Error }).timeoutError.message).toContain('ollama serve');
  });

  it('with pull: true pulls the model once, reports progress, then is ready (Ollama stand-in)', async () => {
    standIn = await startOllamaStandIn(['--pull-steps', '8', '--pull-step-ms', '30']);
    const backend = createOllamaBackend({ rootUrl: standIn.url, pull: true });
    const target = await targetFor(backend, { modelIdentity: 'fresh-model' });
    const reports: ProgressReport[] = [];
    const results: ReadinessResult[] = [];
    await waitUntil(
      async () => {
        const result = await backend.probeReadiness(target, probeContext(reports));
        results.push(result);
        return result.status === 'ready';
      },
      { message: 'the pulled model to be ready' },
    );
    expect(results[0]).toMatchObject({ status: 'pending', detail: 'pulling fresh-model' });
    const pulls = (await standIn.requests()).filter((r) => r.path === '/api/pull');
    expect(pulls).toHaveLength(1);
    expect(pulls[0]?.body).toEqual({ model: 'fresh-model', stream: true });
    expect(reports.every((r) => r.phase === 'pulling')).toBe(true);
    const percents = reports.flatMap((r) => (r.percent === undefined ? [] : [r.percent]));
    expect(percents.length).toBeGreaterThan(2);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    expect(reports.map((r) => r.message)).toContain('pulling fresh-model: success');
  });

  it('fails with model_not_found when the daemon cannot pull the model (Ollama stand-in)', async () => {
    standIn = await startOllamaStandIn(['--unpullable', 'no-such-model']);
    const backend = createOllamaBackend({ rootUrl: standIn.url, pull: true });
    const target = await targetFor(backend, { modelIdentity: 'no-such-model' });
    let result: ReadinessResult | undefined;
    await waitUntil(
      async () => {
        result = await backend.probeReadiness(target, probeContext());
        return result.status !== 'pending';
      },
      { message: 'the failed pull to surface' },
    );
    expect(result).toMatchObject({ status: 'failed', error: { code: 'model_not_found' } });
    expect((result as { error: Error }).error.message).toContain('file does not exist');
  });

  it('fails at once when the daemon rejects the credentials (Ollama stand-in with --api-key)', async () => {
    standIn = await startOllamaStandIn(['--models', 'tiny', '--api-key', 'right-key']);
    const backend = createOllamaBackend({ rootUrl: standIn.url, apiKey: 'wrong-key' });
    const result = await backend.probeReadiness(
      await targetFor(backend, { modelIdentity: 'tiny' }),
      probeContext(),
    );
    expect(result).toMatchObject({ status: 'failed', error: { code: 'invalid_boot_spec' } });
    const good = createOllamaBackend({ rootUrl: standIn.url, apiKey: 'right-key' });
    const ok = await good.probeReadiness(await targetFor(good, { modelIdentity: 'tiny' }), probeContext());
    expect(ok.status).toBe('ready');
  });
});
