// End-to-end: the ad-hoc commands of the real `bin/shic.js` (spawn llama-cpp, attach ollama, llama-server build)
// as child processes, talking to a real llama-server.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OllamaStandIn, startOllamaStandIn } from '../backends/ollama/ollama-stand-in-process.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { type LlamaUpstream, startLlamaUpstream } from '../support/start-llama-upstream.js';
import { waitUntil } from '../support/wait-until.js';
import { isRunning, SHIC_BIN, startShicDaemon, stopShicDaemons } from './shic-process.js';

const DEADLINE_MS = 120_000;
/** Per test: model loads and child-process startups are slow on a shared 2-core machine. */
const TEST_TIMEOUT_MS = 300_000;

interface Snapshot {
  instanceId: string;
  backend: string;
  state: string;
  pid?: number;
  metadata: { deployment: string };
}

let dir: string;
let stateDir: string;
const daemons: ResultPromise[] = [];
const standIns: OllamaStandIn[] = [];
const upstreams: LlamaUpstream[] = [];

// One short-lived `shic` command against the test's state directory.
function shic(args: string[], env: Record<string, string> = {}) {
  return execa('node', [SHIC_BIN, ...args, '--state-dir', stateDir], {
    env,
    reject: false,
    timeout: DEADLINE_MS,
  });
}

// Starts a foreground daemon command and waits until its control API answers.
function foreground(args: string[], env: Record<string, string> = {}) {
  return startShicDaemon([...args, '--state-dir', stateDir], {
    env,
    stateDir,
    health: () => shic(['health', '--json']),
    daemons,
    timeoutMs: DEADLINE_MS,
    intervalMs: 200,
    label: `shic ${args.join(' ')}`,
  });
}

// Polls `shic ps --json` until exactly one instance is ready, and returns it.
async function readyInstance(): Promise<Snapshot> {
  return waitUntil(
    async () => {
      const ps = await shic(['ps', '--json']);
      const instances = ps.exitCode === 0 ? (JSON.parse(ps.stdout) as Snapshot[]) : [];
      return instances.length === 1 && instances[0]?.state === 'ready' ? instances[0] : undefined;
    },
    { timeoutMs: DEADLINE_MS, intervalMs: 200, message: 'a ready instance in shic ps' },
  );
}

// Leases the deployment with `shic ensure --json` and runs one real chat completion against the descriptor.
async function ensureAndChat(deployment: string) {
  const ensured = await shic(['ensure', deployment, '--ttl', '30s', '--json']);
  expect(ensured.exitCode, ensured.stderr).toBe(0);
  const { endpoint, lease } = JSON.parse(ensured.stdout);
  expect(lease.leaseRef).toEqual(expect.any(String));
  const auth: string | undefined = endpoint.headers.authorization;
  const client = new OpenAI({
    baseURL: endpoint.baseUrl,
    apiKey: auth ? auth.slice('Bearer '.length) : 'none',
  });
  const completion = await client.chat.completions.create({
    model: endpoint.modelIdentity,
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 4,
  });
  expect(completion.choices[0]?.message.role).toBe('assistant');
  return endpoint as { baseUrl: string; healthRef: string };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shic-adhoc-'));
  stateDir = join(dir, 'state');
});

afterEach(async () => {
  await stopShicDaemons(daemons);
  await Promise.all(standIns.splice(0).map((s) => s.kill()));
  await Promise.all(upstreams.splice(0).map((u) => u.kill()));
  await rm(dir, { recursive: true, force: true });
});

describe('shic spawn llama-cpp (the binary)', () => {
  it(
    'spawns the real llama-server from SHIC_LLAMA_SERVER, leases it, chats, and stops it on SIGTERM',
    async () => {
      const { binaryPath, modelPath } = await realLlamaServer();
      const { child: daemon } = await foreground(
        ['spawn', 'llama-cpp', '--model', modelPath, '--ctx-size', '256'],
        {
          SHIC_LLAMA_SERVER: binaryPath,
        },
      );
      const instance = await readyInstance();
      expect(instance.backend).toBe('llama-cpp');
      expect(instance.pid).toEqual(expect.any(Number));
      expect(isRunning(instance.pid as number)).toBe(true);

      const endpoint = await ensureAndChat(instance.metadata.deployment);
      expect(endpoint.healthRef).toBe(instance.instanceId);

      daemon.kill('SIGTERM');
      const result = await daemon;
      expect(result.exitCode, String(result.all)).toBe(0);
      expect(result.all).toContain(`ready ${instance.metadata.deployment} ${instance.instanceId}`);
      expect(isRunning(instance.pid as number)).toBe(false);
      expect(existsSync(join(stateDir, 'control.json'))).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('shic attach ollama (the binary)', () => {
  it(
    'attaches to an Ollama stand-in daemon (real llama-server upstream), chats, and leaves the daemon loaded and running on SIGTERM',
    async () => {
      const upstream = await startLlamaUpstream(['--ctx-size', '256']);
      upstreams.push(upstream);
      const standIn = await startOllamaStandIn(['--models', 'tiny', '--upstream', upstream.url]);
      standIns.push(standIn);

      const { child: daemon } = await foreground([
        'attach',
        'ollama',
        '--model',
        'tiny',
        '--host',
        standIn.url,
      ]);
      const instance = await readyInstance();
      expect(instance).toMatchObject({ backend: 'ollama', metadata: { deployment: 'tiny' } });
      await ensureAndChat('tiny');
      const seen = await standIn.requests();
      expect(seen.some((r) => r.path.startsWith('/v1/chat/completions'))).toBe(true);

      daemon.kill('SIGTERM');
      const result = await daemon;
      expect(result.exitCode, String(result.all)).toBe(0);
      expect(isRunning(standIn.pid)).toBe(true);
      const requests = await standIn.requests();
      const unloads = requests.filter(
        (r) => typeof r.body === 'object' && r.body !== null && r.body.keep_alive === 0,
      );
      expect(unloads).toEqual([]);
      expect(requests.some((r) => r.path === '/api/delete')).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('shic llama-server build (the binary)', () => {
  it(
    'returns the SHIC_LLAMA_SERVER binary at once, as a path and as JSON',
    async () => {
      const { binaryPath } = await realLlamaServer();
      const env = { SHIC_LLAMA_SERVER: binaryPath };
      const plain = await shic(['llama-server', 'build'], env);
      expect(plain.exitCode, plain.stderr).toBe(0);
      expect(plain.stdout.trim()).toBe(binaryPath);

      const json = await shic(['llama-server', 'build', '--json'], env);
      expect(json.exitCode, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({
        binaryPath,
        source: 'env',
        version: expect.any(String),
      });
    },
    TEST_TIMEOUT_MS,
  );
});
