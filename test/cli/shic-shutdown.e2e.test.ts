// SIGTERM to `shic up` must end the daemon within its deadline even while a keep-alive client is in the
// middle of a request, stop every server, remove its state files, and let event streams see the last events.
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSse } from '../../src/control/control-client.js';
import { writeLlamaConfig } from '../support/llama-config.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { waitUntil } from '../support/wait-until.js';
import { isRunning, SHIC_BIN, startShicDaemon, stopShicDaemons } from './shic-process.js';

let dir: string;
let stateDir: string;
const daemons: ResultPromise[] = [];
const agents: Agent[] = [];

const shic = (args: string[]) =>
  execa('node', [SHIC_BIN, ...args], { env: { SHIC_STATE_DIR: stateDir }, reject: false, timeout: 60_000 });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shic-shutdown-'));
  stateDir = join(dir, 'state');
});

afterEach(async () => {
  await stopShicDaemons(daemons);
  await Promise.all(agents.splice(0).map((agent) => agent.destroy()));
  await rm(dir, { recursive: true, force: true });
});

async function inFlightRequests(url: string, auth: string): Promise<number> {
  const response = await request(`${url}/metrics`, { headers: { authorization: auth } });
  const text = await response.body.text();
  return Number(/^shic_control_requests_in_flight (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

describe('shic up shutdown', () => {
  it('ends on SIGTERM while a keep-alive client waits mid-request: 503, servers stopped, files removed, last events streamed', async () => {
    const { binaryPath, modelPath } = await realLlamaServer();
    const config = await writeLlamaConfig(join(dir, 'shic.yaml'), {
      name: 'tiny',
      modelPath,
      binaryPath,
      deployment: ['start: eager', 'maxLeases: 1'],
      bootSpec: ['ctxSize: 256'],
    });
    const { child } = await startShicDaemon(['up', config], {
      env: { SHIC_STATE_DIR: stateDir },
      stateDir,
      health: () => shic(['health', '--json']),
      daemons,
      timeoutMs: 60_000,
      intervalMs: 100,
      label: 'shic up',
    });
    const { url } = JSON.parse(readFileSync(join(stateDir, 'control.json'), 'utf8')) as { url: string };
    const auth = `Bearer ${readFileSync(join(stateDir, 'control.token'), 'utf8').trim()}`;
    const agent = new Agent({ keepAliveTimeout: 60_000, connections: 4 });
    agents.push(agent);
    const ensure = (body: unknown) =>
      request(`${url}/v1/endpoints/ensure`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    // An event stream, as `shic events` holds one.
    const events = await request(`${url}/v1/events?types=instance.`, {
      headers: { authorization: auth },
      dispatcher: agent,
    });
    const seen: string[] = [];
    const streamEnded = (async () => {
      for await (const event of parseSse(events.body)) seen.push(event.event);
    })();

    const first = await ensure({ deployment: 'tiny', ownerRef: 'holder' });
    const { endpoint } = (await first.body.json()) as { endpoint: { baseUrl: string } };
    expect(first.statusCode).toBe(200);
    const port = Number(new URL(endpoint.baseUrl).port);
    const pid = JSON.parse((await shic(['ps', '--json'])).stdout)[0].pid as number;

    // The capacity is 1: this ensure waits on a keep-alive connection until the daemon answers it.
    const waiting = ensure({ deployment: 'tiny', ownerRef: 'waiter', capacityWaitMs: 120_000 });
    await waitUntil(async () => (await inFlightRequests(url, auth)) >= 2, {
      timeoutMs: 10_000,
      intervalMs: 50,
      message: 'the waiting ensure to be in flight',
    });

    child.kill('SIGTERM');
    const answer = await waiting;
    expect(answer.statusCode).toBe(503);
    expect(((await answer.body.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
    const exit = await child;
    expect(exit.exitCode).toBe(0);
    await streamEnded;
    expect(seen).toContain('instance.stopped');
    expect(isRunning(pid)).toBe(false);
    expect(await readdir(stateDir)).not.toEqual(expect.arrayContaining(['control.json']));
    expect(await readdir(stateDir)).not.toEqual(
      expect.arrayContaining(['control.token', 'shic-daemon.lock']),
    );
    await expect(request(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});
