import { createServer } from 'node:net';
import getPort from 'get-port';
import type { ProcessEventVerdict } from 'self-hosted-inference-core';
import { afterEach, describe, expect, it } from 'vitest';
import { interpretLlamaServerOutput } from '../../../backends/llama-cpp/index.js';
import { waitUntil } from '../../support/wait-until.js';
import { startLlamaServer } from './llama-server-process.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

const verdicts = (lines: string[]) =>
  lines
    .map((line) => interpretLlamaServerOutput({ type: 'stderr', line }))
    .filter((v): v is ProcessEventVerdict => v !== undefined);

describe('interpretLlamaServerOutput', () => {
  it('reads load progress and a ready hint from the real llama-server output', async () => {
    const server = await startLlamaServer();
    cleanups.push(server.kill);
    await waitUntil(() => verdicts(server.lines).some((v) => v.ready), { message: 'a ready line' });
    const seen = verdicts(server.lines);
    expect(seen.some((v) => v.progress?.message.startsWith('loading model'))).toBe(true);
    expect(seen.some((v) => v.addressInUse)).toBe(false);
  });

  it('reports addressInUse when the real llama-server cannot bind its port', async () => {
    const port = await getPort({ host: '127.0.0.1' });
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const server = await startLlamaServer([], {}, port);
    cleanups.push(server.kill);
    await waitUntil(() => verdicts(server.lines).some((v) => v.addressInUse), {
      message: 'a bind failure line',
    });
    expect((await server.child).exitCode).not.toBe(0);
  });

  it('recognises the ready lines of older llama-server builds', () => {
    for (const line of [
      'main: server is listening on http://127.0.0.1:8080 - starting the main loop',
      'main: model loaded',
      'llama_server: listening on http://127.0.0.1:8080',
    ]) {
      expect(interpretLlamaServerOutput({ type: 'stdout', line })?.ready).toBe(true);
    }
  });

  it('says nothing about unrelated lines and exits', () => {
    expect(
      interpretLlamaServerOutput({ type: 'stderr', line: 'srv  update_slots: all slots are idle' }),
    ).toBeUndefined();
    expect(interpretLlamaServerOutput({ type: 'exit', exitCode: 1, signal: null })).toBeUndefined();
  });
});
