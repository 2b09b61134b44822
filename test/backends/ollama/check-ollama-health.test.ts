import getPort from 'get-port';
import { afterEach, describe, expect, it } from 'vitest';
import { createOllamaBackend, setOllamaKeepAlive } from '../../../backends/ollama/index.js';
import { type OllamaStandIn, startOllamaStandIn } from './ollama-stand-in-process.js';
import { probeContext, targetFor } from './ollama-test-target.js';

const running: OllamaStandIn[] = [];
async function start(flags: string[]): Promise<OllamaStandIn> {
  const standIn = await startOllamaStandIn(flags);
  running.push(standIn);
  return standIn;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.kill()));
});

describe('checkOllamaHealth', () => {
  it('is healthy when /api/ps lists the model, under its canonical ":latest" name (Ollama stand-in)', async () => {
    const standIn = await start(['--models', 'tiny', '--loaded', 'tiny']);
    const backend = createOllamaBackend({ rootUrl: standIn.url });
    const health = await backend.checkHealth(
      await targetFor(backend, { modelIdentity: 'tiny' }),
      probeContext(),
    );
    expect(health).toMatchObject({
      status: 'healthy',
      metadata: { ollamaVersion: '0.6.2', modelLoaded: true },
    });
  });

  it('goes degraded ↔ healthy as the model is unloaded and loaded again (Ollama stand-in)', async () => {
    const standIn = await start(['--models', 'tiny', '--loaded', 'tiny']);
    const backend = createOllamaBackend({ rootUrl: standIn.url });
    const target = await targetFor(backend, { modelIdentity: 'tiny' });
    const conn = { rootUrl: standIn.url, headers: {} };

    expect((await backend.checkHealth(target, probeContext())).status).toBe('healthy');
    expect(await setOllamaKeepAlive(conn, 'tiny', 0)).toBeUndefined();
    expect(await backend.checkHealth(target, probeContext())).toMatchObject({
      status: 'degraded',
      detail: 'model installed but not loaded',
    });
    expect(await setOllamaKeepAlive(conn, 'tiny', '5m')).toBeUndefined();
    expect((await backend.checkHealth(target, probeContext())).status).toBe('healthy');
  });

  it('is unavailable while the daemon is killed and healthy again once it is back (Ollama stand-in)', async () => {
    const port = await getPort();
    const flags = ['--port', String(port), '--models', 'tiny', '--loaded', 'tiny'];
    const first = await start(flags);
    const backend = createOllamaBackend({ rootUrl: `:${port}` });
    const target = await targetFor(backend, { modelIdentity: 'tiny' });
    expect((await backend.checkHealth(target, probeContext())).status).toBe('healthy');

    await first.kill();
    const down = await backend.checkHealth(target, probeContext());
    expect(down.status).toBe('unavailable');
    expect(down.detail).toContain(`http://127.0.0.1:${port} is unreachable`);

    await start(flags);
    expect((await backend.checkHealth(target, probeContext())).status).toBe('healthy');
  });

  it('is unavailable when the model was removed from the daemon (Ollama stand-in)', async () => {
    const standIn = await start(['--models', 'other']);
    const backend = createOllamaBackend({ rootUrl: standIn.url });
    const health = await backend.checkHealth(
      await targetFor(backend, { modelIdentity: 'tiny' }),
      probeContext(),
    );
    expect(health.status).toBe('unavailable');
    expect(health.detail).toContain('ollama pull tiny');
  });

  it('only reads from the daemon: version, ps and show (Ollama stand-in)', async () => {
    const standIn = await start(['--models', 'tiny']);
    const backend = createOllamaBackend({ rootUrl: standIn.url });
    await backend.checkHealth(await targetFor(backend, { modelIdentity: 'tiny' }), probeContext());
    const seen = (await standIn.requests()).map((r) => `${r.method} ${r.path}`);
    expect(seen).toEqual(['GET /api/version', 'GET /api/ps', 'POST /api/show']);
  });
});
