// End-to-end: `shic up --models-dir` serves every model file of a folder through the gateway; the openai client
// talks to the URL the daemon writes; `shic requests` lists what it served; SIGTERM mid-stream ends in time.
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import OpenAI from 'openai';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { realLlamaServer } from '../support/llama-fixture.js';
import { waitUntil } from '../support/wait-until.js';
import { SHIC_BIN, startShicDaemon, stopShicDaemons } from './shic-process.js';

const DEADLINE_MS = 120_000;
let dir: string;
let stateDir: string;
const daemons: ResultPromise[] = [];

function shic(args: string[]) {
  return execa('node', [SHIC_BIN, ...args, '--state-dir', stateDir], { reject: false, timeout: DEADLINE_MS });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shic-gateway-e2e-'));
  stateDir = join(dir, 'state');
});
afterEach(async () => {
  await stopShicDaemons(daemons);
  await rm(dir, { recursive: true, force: true });
});

describe('shic up with the gateway (real llama-server)', () => {
  it('serves a models folder at the URL in gateway.url, records requests, and stops mid-stream in time', async () => {
    const { modelPath, longModelPath } = await realLlamaServer();
    const models = join(dir, 'models');
    await mkdir(models);
    await symlink(modelPath, join(models, 'tiny.gguf'));
    await symlink(longModelPath, join(models, 'long.gguf'));
    const config = join(dir, 'shic.yaml');
    await writeFile(config, 'gateway:\n  modelDefaults:\n    bootSpec:\n      ctxSize: 2048\n');
    const { child } = await startShicDaemon(['up', config, '--models-dir', models, '--state-dir', stateDir], {
      env: {},
      stateDir,
      health: () => shic(['health', '--json']),
      daemons,
      timeoutMs: DEADLINE_MS,
      intervalMs: 200,
      label: 'shic up --models-dir',
    });
    const url = (await readFile(join(stateDir, 'gateway.url'), 'utf8')).trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const client = new OpenAI({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
    const listed = await client.models.list();
    expect(listed.data.map((m) => m.id).sort()).toEqual(['long', 'tiny']);
    const answer = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
    });
    expect(answer.choices).toHaveLength(1);

    const requests = await shic(['requests', '--json']);
    expect(requests.exitCode, requests.stderr).toBe(0);
    expect(JSON.parse(requests.stdout)).toMatchObject([
      { model: 'tiny', deployment: 'tiny', outcome: 'completed', httpStatus: 200, coldStart: true },
    ]);
    const table = await shic(['requests', '--deployment', 'tiny']);
    expect(table.stdout).toContain('completed');

    // SIGTERM while a long answer streams: the daemon ends the stream and exits within its deadline.
    const res = await request(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'long',
        stream: true,
        max_tokens: 30_000,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    expect(res.statusCode).toBe(200);
    const reader = res.body[Symbol.asyncIterator]();
    await reader.next();
    const stoppedAt = Date.now();
    child.kill('SIGTERM');
    const exit = await child;
    expect(exit.exitCode).toBe(0);
    // The gateway's grace (5 s) plus stopping the servers: well inside 20 s.
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    await waitUntil(async () => {
      try {
        for (;;) if ((await reader.next()).done) return true;
      } catch {
        return true;
      }
    });
  });
});
