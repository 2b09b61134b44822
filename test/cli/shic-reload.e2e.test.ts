// `shic reload` and SIGHUP against a real `shic up` with real llama-servers: a changed, a removed, a new and an
// unchanged deployment. Only the changed and the removed ones stop (the removed one when its lease ends); the
// unchanged one keeps its process; the new one appears. A bad config changes nothing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realLlamaServer } from '../support/llama-fixture.js';
import { waitUntil } from '../support/wait-until.js';
import { isRunning, SHIC_BIN, startShicDaemon, stopShicDaemons } from './shic-process.js';

const daemons: ResultPromise[] = [];
let dir: string;
let model: string;
let binary: string;

beforeAll(async () => {
  const real = await realLlamaServer();
  model = real.modelPath;
  binary = real.binaryPath;
  dir = await mkdtemp(join(tmpdir(), 'shic-reload-'));
}, 900_000);

afterAll(async () => {
  await stopShicDaemons(daemons);
  await rm(dir, { recursive: true, force: true });
});

const deployment = (alias: string, ctxSize: number, start = 'eager') =>
  [
    `  ${alias}:`,
    '    backend: llama-cpp',
    `    start: ${start}`,
    `    bootSpec: { model: ${JSON.stringify(model)}, binaryPath: ${JSON.stringify(binary)}, alias: ${alias}, ctxSize: ${ctxSize} }`,
  ].join('\n');

const configText = (...deployments: string[]) =>
  ['stateDir: ./state', 'gateway: { enabled: false }', 'deployments:', ...deployments, ''].join('\n');

describe('shic reload', () => {
  it('stops only the changed and removed deployments, starts the new one, leaves the unchanged one alone', async () => {
    const config = join(dir, 'shic.yaml');
    const stateDir = join(dir, 'state');
    await writeFile(config, configText(deployment('a', 512), deployment('b', 512), deployment('c', 512)));
    const env = { SHIC_STATE_DIR: stateDir };
    const shic = (args: string[]) =>
      execa('node', [SHIC_BIN, ...args], { env, reject: false, timeout: 120_000 });
    const { child } = await startShicDaemon(['up', config], {
      env,
      stateDir,
      health: () => shic(['health', '--json']),
      daemons,
      timeoutMs: 120_000,
      intervalMs: 100,
      label: 'shic up',
    });
    const ps = async () =>
      JSON.parse((await shic(['ps', '--json'])).stdout) as Array<{
        instanceId: string;
        state: string;
        pid?: number;
        metadata: { deployment?: string };
      }>;
    const byDeployment = async (name: string) =>
      (await ps()).filter((i) => i.metadata.deployment === name && i.state !== 'stopped');
    await waitUntil(async () => (await ps()).filter((i) => i.state === 'ready').length === 3, {
      timeoutMs: 120_000,
      message: 'a, b and c ready',
    });
    const [a] = await byDeployment('a');
    const [c] = await byDeployment('c');
    const [b] = await byDeployment('b');
    const lease = JSON.parse((await shic(['ensure', 'b', '--ttl', '10m', '--json'])).stdout).lease as {
      leaseRef: string;
    };

    // A bad config is refused, naming the line, and changes nothing.
    await writeFile(config, `${configText(deployment('a', 1024))}    bogus: true\n`);
    const refused = await shic(['reload']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/shic\.yaml:\d+/);
    expect((await ps()).filter((i) => i.state === 'ready')).toHaveLength(3);

    // a changed, b removed, c unchanged, d new.
    await writeFile(config, configText(deployment('a', 1024), deployment('c', 512), deployment('d', 512)));
    const reload = await shic(['reload', '--json']);
    expect(reload.exitCode, reload.stderr).toBe(0);
    const report = JSON.parse(reload.stdout);
    expect(report).toMatchObject({
      added: ['d'],
      removed: ['b'],
      changed: ['a'],
      unchanged: ['c'],
      restartRequired: [],
    });
    expect(report.retired).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ instanceId: a!.instanceId, deployment: 'a', leases: 0 }),
        expect.objectContaining({ instanceId: b!.instanceId, deployment: 'b', leases: 1 }),
      ]),
    );
    // The idle changed one is replaced; the new one starts; the unchanged one keeps its very process.
    await waitUntil(
      async () => {
        const [nextA] = await byDeployment('a');
        const [d] = await byDeployment('d');
        return nextA?.state === 'ready' && nextA.instanceId !== a!.instanceId && d?.state === 'ready';
      },
      { timeoutMs: 120_000, message: 'a restarted from its new spec and d ready' },
    );
    expect(isRunning(a!.pid!)).toBe(false);
    const [sameC] = await byDeployment('c');
    expect(sameC).toMatchObject({ instanceId: c!.instanceId, pid: c!.pid, state: 'ready' });
    // The removed one keeps serving its lease holder, then stops when the lease ends.
    expect((await byDeployment('b'))[0]?.state).toBe('ready');
    expect((await shic(['release', lease.leaseRef])).exitCode).toBe(0);
    await waitUntil(async () => (await byDeployment('b')).length === 0, {
      message: 'b stopped after its lease',
    });
    expect(isRunning(b!.pid!)).toBe(false);

    // SIGHUP does the same as `shic reload`: d removed (idle: stopped at once).
    const [d] = await byDeployment('d');
    await writeFile(config, configText(deployment('a', 1024), deployment('c', 512)));
    child.kill('SIGHUP');
    await waitUntil(async () => (await byDeployment('d')).length === 0, {
      message: 'd stopped after SIGHUP',
    });
    expect(isRunning(d!.pid!)).toBe(false);
    expect(child.exitCode).toBeNull();
  }, 300_000);
});
