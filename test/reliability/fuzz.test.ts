// Fuzz (fast-check): contracts, boot specs, YAML configs, the front door and the control API. Every case
// ends in success or a typed KernelError with a code: never an untyped exception, never a spawned process
// for an invalid input, never a 5xx or a dead control server. SHIC_FUZZ_RUNS scales the case counts.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createLlamaCppBackend, normalizeLlamaCppBootSpec } from '../../backends/llama-cpp/index.js';
import { parseMlxBootSpec } from '../../backends/mlx/index.js';
import { parseOllamaAttachSpec } from '../../backends/ollama/index.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { parseBackendManifest } from '../../src/contracts/backend-manifest.js';
import { parseConsumerManifest } from '../../src/contracts/consumer-manifest.js';
import {
  parseEndpointRequest,
  parseEnsureEndpointOptions,
  parseExecutionContext,
} from '../../src/contracts/endpoint-request.js';
import { parseInstanceSpec } from '../../src/contracts/instance-spec.js';
import { parseStartupPlan } from '../../src/contracts/startup-plan.js';
import { type ControlServer, startControlServer } from '../../src/control/control-server.js';
import { KernelError } from '../../src/errors/kernel-error.js';
import { createKernel } from '../../src/kernel/create-kernel.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { consumerInput, executionContext, standInRequest } from '../support/consumers.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { spawnedManifestInput } from '../support/manifests.js';
import { descendantsOf, roleOf } from '../support/process-census.js';
import { createStandInBackend } from '../support/stand-in-backend.js';
import { printTable } from './support/print-table.js';

const SCALE = Number(process.env.SHIC_FUZZ_RUNS ?? '1');
const runs = (n: number) => Math.max(10, Math.round(n * SCALE));
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'shic-fuzz-'));
const counts: Array<[string, string]> = [];
let kernel: Kernel;
let spawned = 0;

beforeAll(() => {
  kernel = createKernel({ stateDir, backends: [createStandInBackend()] });
  kernel.on('instance.spawned', () => {
    spawned += 1;
  });
});
afterAll(async () => {
  await kernel?.close();
  rmSync(stateDir, { recursive: true, force: true });
  printTable('fuzz cases (outcomes)', counts);
});

/** Runs `fn`; returns 'ok' or the KernelError code; rethrows anything untyped (which fails the property). */
async function outcome(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (error) {
    if (KernelError.isInstance(error) && typeof error.code === 'string' && error.code.length > 0)
      return error.code;
    throw new Error(`untyped failure: ${String((error as Error)?.stack ?? error)}`);
  }
}

function tally(name: string) {
  const seen = new Map<string, number>();
  return {
    add(code: string) {
      seen.set(code, (seen.get(code) ?? 0) + 1);
    },
    done() {
      counts.push([name, [...seen].map(([k, v]) => `${k} ${v}`).join(', ')]);
    },
  };
}

// A valid object with some fields dropped and some replaced by arbitrary values (unknown keys included).
function nearValid(valid: Record<string, unknown>, extraKeys: string[] = []) {
  const keys = [...Object.keys(valid), 'unknownField', ...extraKeys];
  return fc
    .tuple(
      fc.subarray(Object.keys(valid)),
      fc.dictionary(fc.constantFrom(...keys), fc.anything({ maxDepth: 2 }), { maxKeys: 3 }),
    )
    .map(([drop, patch]) => {
      const o: Record<string, unknown> = { ...valid };
      for (const k of drop) delete o[k];
      for (const [k, v] of Object.entries(patch)) o[k] = v;
      return o;
    });
}
const input = (valid: Record<string, unknown>) => fc.oneof(fc.anything(), nearValid(valid));

describe('contract parsers under fuzz', () => {
  const parsers: Array<[string, (v: unknown) => unknown, Record<string, unknown>]> = [
    ['parseBackendManifest', parseBackendManifest, spawnedManifestInput()],
    ['parseConsumerManifest', parseConsumerManifest, consumerInput() as Record<string, unknown>],
    ['parseEndpointRequest', parseEndpointRequest, standInRequest({ name: 'x' }) as Record<string, unknown>],
    ['parseExecutionContext', parseExecutionContext, executionContext() as Record<string, unknown>],
    [
      'parseEnsureEndpointOptions',
      parseEnsureEndpointOptions,
      { ownerRef: 'o', ttlMs: 1000, exclusive: false },
    ],
    ['parseInstanceSpec', parseInstanceSpec, { backend: 'stand-in', bootSpec: { name: 'x' } }],
    [
      'parseStartupPlan',
      parseStartupPlan,
      {
        instanceKey: 'k',
        startupKind: 'spawned',
        managementMode: 'kernel_managed',
        transport: { command: 'x', args: [] },
        endpointTemplate: { protocol: 'openai_chat_completions', baseUrl: 'http://127.0.0.1:1/v1' },
      },
    ],
  ];
  for (const [name, parse, valid] of parsers) {
    it(`${name} returns or throws a typed error for any input`, async () => {
      const t = tally(name);
      await fc.assert(
        fc.asyncProperty(input(valid), async (value) => {
          t.add(await outcome(() => parse(value)));
        }),
        { numRuns: runs(1_000) },
      );
      t.done();
    });
  }
});

describe('backend boot specs under fuzz', () => {
  it('normalizeLlamaCppBootSpec, parseOllamaAttachSpec and parseMlxBootSpec return or throw typed errors', async () => {
    const t = tally('boot specs (llama-cpp, ollama, mlx)');
    const llama = {
      model: '/m/x.gguf',
      ctxSize: 256,
      port: 8080,
      apiKey: 'sk-x',
      extraArgs: ['--x'],
      env: { A: 'b' },
    };
    const ollama = { rootUrl: 'http://127.0.0.1:11434', model: 'llama3.2', pull: false };
    const mlx = { model: 'mlx-community/x', extraArgs: ['--x'] };
    await fc.assert(
      fc.asyncProperty(
        input(llama),
        input(ollama),
        input(mlx),
        fc.option(fc.string()),
        async (l, o, m, id) => {
          t.add(await outcome(() => normalizeLlamaCppBootSpec(l)));
          const modelIdentity = id ?? undefined;
          t.add(
            await outcome(() =>
              parseOllamaAttachSpec(
                parseInstanceSpec({ backend: 'ollama', backendOptions: o, modelIdentity }),
                {},
                {},
              ),
            ),
          );
          t.add(
            await outcome(() =>
              parseMlxBootSpec(parseInstanceSpec({ backend: 'mlx', bootSpec: m, modelIdentity })),
            ),
          );
        },
      ),
      { numRuns: runs(1_000) },
    );
    t.done();
  });
});

describe('YAML configs under fuzz', () => {
  it('parseConfigText returns a config or throws a typed error for any text', async () => {
    const t = tally('parseConfigText');
    const valid = {
      control: { host: '127.0.0.1', port: 0 },
      deployments: {
        tiny: { backend: 'llama-cpp', bootSpec: { model: './m.gguf', apiKey: 'k' }, start: 'on-demand' },
      },
    };
    const deployment = nearValid(valid.deployments.tiny, ['lease', 'idleShutdownMs', 'consumer']);
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.anything().map((v) => stringify(v) ?? ''),
      nearValid(valid, ['stateDir', 'logLevel', '$schema']).map((v) => stringify(v)),
      deployment.map((d) => stringify({ deployments: { tiny: d } })),
      fc
        .string({ maxLength: 40 })
        .map((s) => `deployments:\n  a:\n    backend: llama-cpp\n    bootSpec: \${${s}}\n`),
      // Anchors and aliases in random order: unresolved, self-referencing and multiplying ones included.
      fc
        .array(
          fc.constantFrom(
            'a: &a [1, 1]',
            'b: *a',
            'c: &b [*a, *a, *a]',
            'd: *b',
            'e: *zz',
            'f: &c [*c]',
            'g: [*b, *b, *b, *b]',
          ),
          { maxLength: 8 },
        )
        .map((lines) => lines.join('\n')),
    );
    await fc.assert(
      fc.asyncProperty(text, async (source) => {
        t.add(
          await outcome(() => parseConfigText(source, { env: {}, baseDir: stateDir, fileName: 'fuzz.yaml' })),
        );
      }),
      { numRuns: runs(2_000) },
    );
    t.done();
  });
});

describe('parseConfigText with YAML aliases', () => {
  // Once a bug (untyped ReferenceError / stack overflow): aliases are now checked before `toJS`.
  it.each([
    ['an unresolved alias', 'a: *x'],
    ['a self-referencing alias', 'a: &x [*x]'],
    [
      'an alias bomb',
      `x: &a [1,1,1,1,1,1,1,1,1]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nz: [${Array(200).fill('*b').join(',')}]`,
    ],
  ])('rejects %s with invalid_config', async (_name, text) => {
    expect(await outcome(() => parseConfigText(text, { env: {} }))).toBe('invalid_config');
  });
});

describe('ensureEndpoint under fuzz', () => {
  it('rejects invalid requests, consumers, contexts and options with a typed error and spawns nothing', async () => {
    const t = tally('ensureEndpoint (stand-in)');
    const request = standInRequest({ name: 'fuzz' }) as Record<string, unknown>;
    await fc.assert(
      fc.asyncProperty(
        nearValid(request),
        nearValid(consumerInput() as Record<string, unknown>),
        nearValid(executionContext() as Record<string, unknown>),
        nearValid({ ownerRef: 'fuzz', ttlMs: 1_000 }),
        async (r, c, x, o) => {
          const before = spawned;
          const code = await outcome(() =>
            kernel.ensureEndpoint(r as never, c as never, x as never, o as never),
          );
          t.add(code);
          // Anything but success is a rejection of the input: nothing may have been spawned for it.
          if (code !== 'ok') expect(spawned).toBe(before);
        },
      ),
      { numRuns: runs(500) },
    );
    t.done();
  });

  it('rejects invalid llama-cpp boot specs before spawning llama-server', async () => {
    const { binaryPath, modelPath } = await realLlamaServer();
    const llamaKernel = createKernel({
      stateDir: path.join(stateDir, 'llama'),
      backends: [createLlamaCppBackend({ binaryPath })],
    });
    let llamaSpawns = 0;
    llamaKernel.on('instance.spawned', () => {
      llamaSpawns += 1;
    });
    const t = tally('ensureEndpoint (llama-cpp, invalid boot spec)');
    const invalid = fc.oneof(
      fc.record({ ctxSize: fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.string()) }),
      fc.record({ port: fc.oneof(fc.integer({ min: 65_536 }), fc.integer({ max: 0 })) }),
      fc.record({ model: fc.constantFrom('', '/nonexistent/model.gguf', stateDir) }),
      fc.record({ binaryPath: fc.constantFrom('/nonexistent/llama-server', stateDir, '') }),
      fc.record({ apiPrefix: fc.string().filter((s) => !s.startsWith('/')) }),
      fc.record({ extraArgs: fc.array(fc.oneof(fc.integer(), fc.constant(null)), { minLength: 1 }) }),
      fc
        .dictionary(
          fc.string({ minLength: 1 }).filter((k) => !['model', '__proto__'].includes(k)),
          fc.anything(),
          { minKeys: 1, maxKeys: 2 },
        )
        .filter((d) =>
          Object.keys(d).some(
            (k) => !['alias', 'host', 'threads', 'parallel', 'embeddings', 'timeout', 'env'].includes(k),
          ),
        ),
    );
    try {
      await fc.assert(
        fc.asyncProperty(invalid, async (bad) => {
          const before = llamaSpawns;
          const code = await outcome(() =>
            llamaKernel.ensureEndpoint(
              {
                requestId: 'fuzz',
                targetPreference: {
                  backend: 'llama-cpp',
                  bootSpec: { model: modelPath, binaryPath, ctxSize: 256, ...bad },
                },
              },
              {
                consumer: 'fuzz',
                acceptedRuntimeKinds: ['service'],
                acceptedManagementModes: ['kernel_managed'],
                acceptedProtocols: ['openai_chat_completions'],
              },
              { runId: 'fuzz', attemptId: 'fuzz' },
              { ownerRef: 'fuzz' },
            ),
          );
          t.add(code);
          expect(code).not.toBe('ok');
          expect(llamaSpawns).toBe(before);
        }),
        { numRuns: runs(200) },
      );
    } finally {
      await llamaKernel.close();
    }
    expect(descendantsOf(process.pid).filter((p) => roleOf(p) === 'llama-server')).toEqual([]);
    t.done();
  });
});

describe('control API under fuzz', () => {
  let server: ControlServer;
  const token = 'fuzz-token-0123456789abcdef';
  beforeAll(async () => {
    server = await startControlServer({ kernel, token, bodyLimitBytes: 16 * 1024 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers every body, path and header with a JSON status below 500 and keeps serving', async () => {
    const t = tally('control API (status)');
    const goodBody = {
      request: standInRequest({ name: 'fuzz-api' }),
      consumer: consumerInput(),
      context: executionContext(),
      options: { ownerRef: 'fuzz' },
    };
    const body = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      nearValid(goodBody, ['deployment']).map((v) => JSON.stringify(v)),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    const segment = fc.oneof(
      fc.constantFrom('..', '%2e%2e', '..%2F..%2Fetc%2Fpasswd', '%00', 'stand-in-00000000', ''),
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
    );
    const route = fc.oneof(
      fc.constantFrom(
        '/healthz',
        '/v1/instances',
        '/v1/events?types=',
        '/metrics',
        '/v1/deployments',
        '/v1/endpoints/ensure',
      ),
      segment.map((s) => `/v1/instances/${s}`),
      fc
        .tuple(segment, fc.constantFrom('logs', 'stop', 'logs?n=-1', 'logs?n=abc', 'logs?follow=maybe'))
        .map(([s, tail]) => `/v1/instances/${s}/${tail}`),
      segment.map((s) => `/v1/leases/${s}`),
      segment.map((s) => `/v1/leases/${s}/renew`),
      fc.webPath(),
    );
    const auth = fc.oneof(
      { arbitrary: fc.constant(`Bearer ${token}`), weight: 6 },
      fc.constant(undefined),
      fc.string({ maxLength: 60 }).filter((s) => !/[\r\n\0]/.test(s) && /^[\x20-\x7e]*$/.test(s)),
      fc.constantFrom(
        `Bearer ${token}x`,
        `Bearer ${token.slice(0, -1)}`,
        `bearer ${token}`,
        `Basic ${token}`,
        'Bearer ',
      ),
    );
    const contentType = fc.constantFrom(
      undefined,
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
    );
    const method = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH') as fc.Arbitrary<
      'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH'
    >;
    await fc.assert(
      fc.asyncProperty(
        method,
        route,
        auth,
        contentType,
        body,
        async (m, url, authorization, type, payload) => {
          const before = spawned;
          const headers: Record<string, string> = {};
          if (authorization !== undefined) headers.authorization = authorization;
          if (type !== undefined && payload !== undefined) headers['content-type'] = type;
          // Event streams stay open: only check that they start.
          const events = m === 'GET' && url.startsWith('/v1/events');
          const controller = new AbortController();
          const response = await request(`${server.url}${url}`, {
            method: m,
            headers,
            ...(payload !== undefined && m !== 'GET' ? { body: payload } : {}),
            signal: controller.signal,
          });
          t.add(String(response.statusCode));
          if (events && response.statusCode === 200) {
            controller.abort();
            await response.body.text().catch(() => '');
          } else {
            const text = await response.body.text();
            if (response.statusCode >= 400) {
              const parsed = JSON.parse(text) as { error?: { code?: unknown } };
              expect(typeof parsed.error?.code).toBe('string');
            }
            expect(text).not.toContain('root:x:0:0');
          }
          expect(response.statusCode).toBeLessThan(500);
          if (response.statusCode >= 400) expect(spawned).toBe(before);
          const health = await request(`${server.url}/healthz`);
          await health.body.text();
          expect(health.statusCode).toBe(200);
        },
      ),
      { numRuns: runs(400) },
    );
    t.done();
  });
});
