// The gateway as users run it for the gateway benchmarks: a real `shic up` daemon in its own process (so the
// benchmark's client never shares an event loop with the gateway), one on-demand deployment `tiny`.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { RuntimeSnapshot } from '../src/contracts/runtime-snapshot.js';
import { ControlClient } from '../src/control/control-client.js';
import { realLlamaServer } from '../test/support/llama-fixture.js';
import type { BenchContext } from './benchmark.js';

const SHIC = fileURLToPath(new URL('../bin/shic.js', import.meta.url));

export interface GatewayDaemon {
  /** The gateway's root URL (no `/v1`). */
  url: string;
  binaryPath: string;
  modelPath: string;
  /** The running llama-server's root URL. */
  upstream(): Promise<string>;
  /** Stops every instance (the next request is cold). */
  stopInstances(): Promise<void>;
}

/** Starts `shic up` with deployment `tiny` (the tiny model with `bootSpec`) and waits for its gateway. */
export async function startGatewayDaemon(
  context: BenchContext,
  bootSpec: Record<string, unknown>,
): Promise<GatewayDaemon> {
  const { binaryPath, modelPath } = await realLlamaServer({ onProgress: () => {} });
  const dir = await mkdtemp(path.join(tmpdir(), 'shic-bench-gateway-'));
  const spec = { model: modelPath, binaryPath, ...bootSpec };
  const config = [
    'gateway:',
    '  recentRequests: 100',
    'deployments:',
    '  tiny:',
    '    backend: llama-cpp',
    '    start: on-demand',
    `    bootSpec: ${JSON.stringify(spec)}`,
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'shic.yaml'), config);
  // SHIC_STATE_DIR = the state directory: no pointer is left in the user's default one.
  const child = execa('node', [SHIC, 'up', path.join(dir, 'shic.yaml'), '--log-level', 'warn'], {
    env: { SHIC_STATE_DIR: dir },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    reject: false,
  });
  context.defer(async () => {
    child.kill('SIGTERM');
    await child;
    await rm(dir, { recursive: true, force: true });
  });
  const urlFile = path.join(dir, 'gateway.url');
  for (const deadline = Date.now() + 60_000; !existsSync(urlFile); await sleep(20)) {
    if (child.exitCode !== null) throw new Error(`shic up exited with ${child.exitCode}: ${child.stderr}`);
    if (Date.now() > deadline) throw new Error('shic up did not write gateway.url within 60 s');
  }
  const url = (await readFile(urlFile, 'utf8')).trim().replace(/\/v1$/, '');
  const control = await ControlClient.fromStateDir(dir);
  context.defer(() => control.close());
  const instances = async () =>
    (await control.call<{ instances: RuntimeSnapshot[] }>('GET', '/v1/instances')).instances;
  return {
    url,
    binaryPath,
    modelPath,
    async upstream() {
      const ready = (await instances()).find((i) => i.state === 'ready');
      if (!ready?.port) throw new Error('no ready llama-server behind the gateway');
      return `http://127.0.0.1:${ready.port}`;
    },
    async stopInstances() {
      for (const instance of await instances()) {
        if (instance.state !== 'stopped')
          await control.call('POST', `/v1/instances/${instance.instanceId}/stop`);
      }
    },
  };
}
