// Runs every example under examples/ as a real child process (tsx for .ts, python3 for .py, bash for .sh)
// against the real llama-server, the Ollama stand-in, and one real `shic up` daemon, so an example that
// silently stops working fails the suite. Each run carries a unique environment marker; after it exits no
// process holding that marker may remain (spawned llama-servers and watchdogs inherit the environment).
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import pWaitFor from 'p-wait-for';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OllamaStandIn, startOllamaStandIn } from '../backends/ollama/ollama-stand-in-process.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { type LlamaUpstream, startLlamaUpstream } from '../support/start-llama-upstream.js';

const ROOT = join(import.meta.dirname, '../..');
const SHIC = join(ROOT, 'bin/shic.js');
const EXAMPLE_TIMEOUT_MS = 120_000;

let dir = '';
let binaryPath = '';
let modelPath = '';

/** Pids of live (non-zombie) processes whose environment holds `SHIC_EXAMPLE_RUN=<marker>`. */
function processesWithMarker(marker: string): number[] {
  const needle = `SHIC_EXAMPLE_RUN=${marker}`;
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state === 'Z' || state === 'X') continue;
      if (readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(needle)) pids.push(Number(name));
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return pids;
}

/** The environment of one run: a fresh marker, llama-server from the fixture, kernel state in the temp dir. */
function runEnv(extra: Record<string, string> = {}): { env: Record<string, string>; marker: string } {
  const marker = randomUUID();
  return {
    marker,
    env: {
      SHIC_EXAMPLE_RUN: marker,
      SHIC_LLAMA_SERVER: binaryPath,
      XDG_STATE_HOME: join(dir, 'xdg-state'),
      ...extra,
    },
  };
}

/** Runs one example to completion; asserts exit 0 and that it left no process behind. Returns its stdout. */
async function runExample(command: string, args: string[], extra: Record<string, string> = {}) {
  const { env, marker } = runEnv(extra);
  const result = await execa(command, args, {
    cwd: ROOT,
    env,
    reject: false,
    timeout: EXAMPLE_TIMEOUT_MS,
    stdin: 'ignore',
  });
  expect(result.exitCode, `${args.join(' ')}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  await pWaitFor(() => processesWithMarker(marker).length === 0, { interval: 50, timeout: 10_000 }).catch(
    () => {
      throw new Error(`${args.join(' ')} left processes behind: ${processesWithMarker(marker).join(', ')}`);
    },
  );
  return result.stdout;
}

const tsx = (file: string, extra?: Record<string, string>) =>
  runExample(process.execPath, ['--import', 'tsx', '--conditions=shic-source', `examples/${file}`], extra);

beforeAll(async () => {
  ({ binaryPath, modelPath } = await realLlamaServer());
  dir = await mkdtemp(join(tmpdir(), 'shic-examples-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('examples (real llama-server)', () => {
  it('spawned-openai.ts spawns llama-server, completes a chat through the openai client and stops it', async () => {
    const out = await tsx('spawned-openai.ts');
    expect(out).toMatch(/^endpoint http:\/\/127\.0\.0\.1:\d+\/v1 model \S+$/m);
    expect(out).toContain('headers {"authorization":"[redacted]"}');
    expect(out).toMatch(/^completion finish_reason=(length|stop) tokens=\d+$/m);
    expect(out).toMatch(/^released lease_\S+$/m);
    expect(out).toMatch(/^done$/m);
  }, 150_000);

  it('lease-reuse.ts shares one instance between concurrent callers and idles it out after the last release', async () => {
    const out = await tsx('lease-reuse.ts');
    expect(out).toMatch(/^same instance: true \(llama-cpp-\w+\), starts: 1$/m);
    expect(out).toMatch(/^leases: worker-a, worker-b$/m);
    expect(out).toMatch(/^warm ensure reused it: true, starts: 1$/m);
    expect(out).toMatch(/^renewed lease_\S+ ttl 120000 ms$/m);
    expect(out).toMatch(/^release again -> false \(no-op\)$/m);
    expect(out).toMatch(/^instance stopped, reason: idle$/m);
  }, 150_000);

  it('compatibility-failures.ts prints the first reason and every failing check, and starts nothing', async () => {
    const out = await tsx('compatibility-failures.ts');
    expect(out).toMatch(/^llama-cpp compatible=false reason=management_mode_mismatch$/m);
    expect(out).toMatch(/^ {2}- management_mode_mismatch: /m);
    expect(out).toMatch(/^ {2}- unsupported_protocol: /m);
    expect(out).toMatch(/^ {2}- missing_capability: .*toolCalling/m);
    expect(out).toMatch(/^ensureEndpoint threw incompatible; instances started: 0$/m);
    expect(out).toMatch(/^ollama compatible=true reason=protocol_match mode=externally_managed warnings=1$/m);
  }, 150_000);

  it('ai-sdk.ts drives the descriptor through @ai-sdk/openai-compatible with generateText and streamText', async () => {
    const out = await tsx('ai-sdk.ts');
    expect(out).toMatch(/^generateText finishReason=(length|stop) outputTokens=\d+$/m);
    expect(out).toMatch(/^streamText parts=[1-9]\d* finishReason=(length|stop)$/m);
    expect(out).toMatch(/^done$/m);
  }, 150_000);
});

describe('attach-ollama.ts (Ollama stand-in with a real llama-server upstream)', () => {
  let upstream: LlamaUpstream | undefined;
  let standIn: OllamaStandIn | undefined;

  beforeAll(async () => {
    upstream = await startLlamaUpstream(['--ctx-size', '512']);
    standIn = await startOllamaStandIn(['--models', 'tiny', '--upstream', upstream.url]);
  });

  afterAll(async () => {
    await standIn?.kill();
    await upstream?.kill();
  });

  it('attaches through OLLAMA_HOST, streams a chat, and leaves the daemon running', async () => {
    const host = standIn!.url.replace(/^http:\/\//, ''); // the bare host:port form Ollama users set
    const out = await tsx('attach-ollama.ts', { OLLAMA_HOST: host, OLLAMA_MODEL: 'tiny' });
    expect(out).toMatch(/^compatibility protocol_match via externally_managed$/m);
    expect(out).toContain(`endpoint ${standIn!.url}/v1 (native root ${standIn!.url})`);
    expect(out).toMatch(/^ollama version \d+\.\d+\.\d+$/m);
    expect(out).toMatch(/^instance ollama-\w+ state ready health (healthy|degraded)$/m);
    expect(out).toMatch(/^streamed [1-9]\d* chunks$/m);
    const version = await fetch(`${standIn!.url}/api/version`);
    expect(version.ok).toBe(true);
    const paths = (await standIn!.requests()).map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(
      expect.arrayContaining(['GET /api/version', 'POST /api/show', 'POST /v1/chat/completions']),
    );
  }, 150_000);
});

describe('control API examples (one real `shic up` daemon)', () => {
  let daemon: ResultPromise | undefined;
  let daemonMarker = '';
  let stateDir = '';
  let output = '';

  beforeAll(async () => {
    stateDir = join(dir, 'daemon-state');
    const config = join(dir, 'shic.yaml');
    await writeFile(
      config,
      [
        'deployments:',
        '  tiny-llama:',
        '    backend: llama-cpp',
        '    start: eager',
        '    modelIdentity: tiny-llama',
        '    bootSpec:',
        `      model: ${JSON.stringify(modelPath)}`,
        `      binaryPath: ${JSON.stringify(binaryPath)}`,
        '      ctxSize: 512',
        '      apiKey: generate',
        '',
      ].join('\n'),
    );
    const { env, marker } = runEnv({ SHIC_STATE_DIR: stateDir });
    daemonMarker = marker;
    daemon = execa(process.execPath, [SHIC, 'up', config], { cwd: ROOT, env, reject: false, all: true });
    daemon.all?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await pWaitFor(
      () => {
        if (daemon?.exitCode !== null) throw new Error(`shic up exited early:\n${output}`);
        return /^ready tiny-llama /m.test(output);
      },
      { interval: 50, timeout: 120_000 },
    );
  });

  afterAll(async () => {
    if (!daemon) return;
    if (daemon.exitCode === null) daemon.kill('SIGTERM');
    const result = await daemon;
    expect(result.exitCode, output).toBe(0);
    expect(output).toMatch(/^shic daemon stopped$/m);
    await pWaitFor(() => processesWithMarker(daemonMarker).length === 0, { interval: 50, timeout: 10_000 });
  });

  it('control-api.py ensures, calls the endpoint with its auth header, renews and releases (urllib only)', async () => {
    const out = await runExample('python3', ['examples/control-api.py', 'tiny-llama'], {
      SHIC_STATE_DIR: stateDir,
    });
    expect(out).toMatch(/^daemon ok$/m);
    expect(out).toMatch(/^deployments tiny-llama$/m);
    expect(out).toMatch(/^endpoint http:\/\/127\.0\.0\.1:\d+\/v1 model tiny-llama$/m);
    expect(out).toMatch(/^completion finish_reason (length|stop)$/m);
    expect(out).toMatch(/^renewed ttlMs 120000$/m);
    expect(out).toMatch(/^instance llama-cpp-\w+ ready leases 1$/m);
    expect(out).toMatch(/^released True$/m);
    expect(out).toMatch(/^renew after release: HTTP 404 lease_not_found: /m);
  }, 150_000);

  it('control-api.sh does the same with curl and jq', async () => {
    const out = await runExample('bash', ['examples/control-api.sh', 'tiny-llama'], {
      SHIC_STATE_DIR: stateDir,
    });
    expect(out).toMatch(/^daemon ok$/m);
    expect(out).toMatch(/^endpoint http:\/\/127\.0\.0\.1:\d+\/v1 model tiny-llama$/m);
    expect(out).toMatch(/^completion finish_reason (length|stop)$/m);
    expect(out).toMatch(/^renewed ttlMs 120000$/m);
    expect(out).toMatch(/^instance llama-cpp-\w+ ready leases 1$/m);
    expect(out).toMatch(/^released true$/m);
    expect(out).toMatch(/^renew after release: HTTP 404$/m);
  }, 150_000);
});
