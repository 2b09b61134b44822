import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InsufficientMemoryError,
  parseConfigText,
  QueueFullError,
  RequestLog,
  type RequestRecord,
  scanModelsFolder,
} from 'self-hosted-inference-core';
import { afterEach, describe, expect, it } from 'vitest';
import { DeploymentCatalog } from '../../src/control/deployment-catalog.js';
import { ModelRouter } from '../../src/gateway/model-router.js';
import { toOpenAiError } from '../../src/gateway/openai-error.js';
import { ResponseTap } from '../../src/gateway/response-tap.js';
import { rewriteBody } from '../../src/gateway/rewrite-body.js';

async function tapThrough(contentType: string, chunks: string[]) {
  const tap = new ResponseTap(contentType);
  for (const chunk of chunks) tap.observe(Buffer.from(chunk));
  return { tap, text: chunks.join(''), usage: tap.usage() };
}

describe('ResponseTap', () => {
  it('reads usage from an SSE event split across chunks', async () => {
    const events = [
      'data: {"choices":[{"delta":{"content":"a"}}]}\n\n',
      'data: {"choices":[{"delta":{"content":"b"}}]}\n\n',
      'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2}}\n\n',
      'data: [DONE]\n\n',
    ].join('');
    const chunks = [events.slice(0, 13), events.slice(13, 70), events.slice(70, 131), events.slice(131)];
    const { usage, tap } = await tapThrough('text/event-stream', chunks);
    expect(usage).toEqual({ promptTokens: 7, completionTokens: 2 });
    expect(tap.firstByteAt).not.toBeNull();
  });

  it('counts content events when the stream reports no usage, and reads llama-server timings when it does', async () => {
    const content = 'data: {"choices":[{"delta":{"content":"x"}}]}\n\n'.repeat(5);
    expect((await tapThrough('text/event-stream', [content])).usage).toEqual({
      promptTokens: null,
      completionTokens: 5,
    });
    const timed = `${content}data: {"choices":[],"timings":{"prompt_n":3,"predicted_n":9}}\n\n`;
    expect((await tapThrough('text/event-stream', [timed])).usage).toEqual({
      promptTokens: 3,
      completionTokens: 9,
    });
  });

  it('reads usage of a JSON answer at its end', async () => {
    const body = JSON.stringify({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 6 } });
    expect((await tapThrough('application/json', [body.slice(0, 10), body.slice(10)])).usage).toEqual({
      promptTokens: 4,
      completionTokens: 6,
    });
  });
});

describe('rewriteBody', () => {
  const raw = Buffer.from('{"model":"m","temperature":1,"logit_bias":{}}');
  const parsed = JSON.parse(raw.toString()) as Record<string, unknown>;
  it('returns the client bytes untouched when no rule changes anything', () => {
    expect(rewriteBody(raw, parsed, { model: 'm', set: {}, strip: ['absent'] })).toBe(raw);
    expect(rewriteBody(raw, parsed, { model: null, set: {}, strip: [] })).toBe(raw);
  });
  it('renames the model, sets and strips fields', () => {
    const out = JSON.parse(
      rewriteBody(raw, parsed, {
        model: 'up',
        set: { temperature: 0.2, top_k: 5 },
        strip: ['logit_bias'],
      }).toString(),
    );
    expect(out).toEqual({ model: 'up', temperature: 0.2, top_k: 5 });
  });
});

describe('ModelRouter', () => {
  const catalog = DeploymentCatalog.fromConfig({
    a: { backend: 'llama-cpp', aliases: ['gpt-4o-mini'], modelIdentity: 'shared' },
    b: { backend: 'ollama', modelIdentity: 'shared' },
    c: { backend: 'ollama', modelIdentity: 'a' },
  });
  const router = new ModelRouter(catalog);
  it('resolves names first, then aliases, then the first model identity', () => {
    expect(router.resolve('a')).toBe('a');
    expect(router.resolve('gpt-4o-mini')).toBe('a');
    expect(router.resolve('shared')).toBe('a');
    expect(router.resolve('c')).toBe('c');
  });
  it('throws unknown_model listing the deployments', () => {
    expect(() => router.resolve('zzz')).toThrow(expect.objectContaining({ code: 'unknown_model' }));
    expect(() => router.resolve('zzz')).toThrow(/Available models: a, b, c/);
  });
  it('lists states from instance snapshots', () => {
    const snapshot = (deployment: string, state: string) =>
      ({ instanceId: `i-${deployment}-${state}`, state, readyAt: null, metadata: { deployment } }) as never;
    const list = router.list([snapshot('a', 'starting'), snapshot('a', 'ready'), snapshot('b', 'failed')]);
    expect(list.map((m) => [m.id, m.state])).toEqual([
      ['a', 'loaded'],
      ['b', 'failed'],
      ['c', 'unloaded'],
    ]);
  });
});

describe('shic.yaml gateway settings', () => {
  it('refuses an alias that repeats another deployment, with its YAML line', () => {
    const text =
      'deployments:\n  a:\n    backend: llama-cpp\n  b:\n    backend: llama-cpp\n    aliases: [x, a]\n';
    expect(() => parseConfigText(text, { fileName: 'shic.yaml' })).toThrow(
      expect.objectContaining({
        code: 'invalid_config',
        issues: [expect.objectContaining({ path: 'deployments.b.aliases.1', line: 6 })],
      }),
    );
  });
  it('makes gateway API keys Secrets', () => {
    const { config } = parseConfigText('gateway:\n  apiKeys: ["0123456789abcdef"]\n');
    expect(JSON.stringify(config.gateway.apiKeys)).toBe('["[redacted]"]');
    expect(config.gateway.apiKeys[0]?.expose()).toBe('0123456789abcdef');
  });
});

describe('OpenAI error mapping', () => {
  it('keeps the kernel code, maps statuses and sets Retry-After', () => {
    const answer = toOpenAiError(new QueueFullError('d', 3, 7));
    expect(answer).toMatchObject({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { error: { code: 'queue_full', type: 'rate_limit_error', param: null } },
    });
    const memory = toOpenAiError(
      new InsufficientMemoryError('needs system 40 MiB; held by a (leased)', {
        need: { system: 40 },
        budget: { system: 50 },
        free: { system: 10 },
        holders: [],
        never: false,
        waitedMs: 1000,
      }),
    );
    expect(memory).toMatchObject({
      status: 503,
      body: {
        error: {
          code: 'insufficient_memory',
          type: 'server_error',
          message: expect.stringContaining('held by'),
        },
      },
    });
    expect(toOpenAiError(new Error('secret internals')).body.error).toEqual({
      message: 'Internal error in the shic gateway.',
      type: 'server_error',
      code: 'internal_error',
      param: null,
    });
  });
});

describe('RequestLog', () => {
  const record = (i: number, deployment: string): RequestRecord =>
    ({
      requestId: `r${i}`,
      deployment,
      outcome: i % 2 ? 'failed' : 'completed',
      startedAt: i,
    }) as RequestRecord;
  it('keeps the newest records up to its capacity, newest first, and filters', () => {
    const log = new RequestLog(3);
    for (let i = 1; i <= 5; i++) log.add(record(i, i < 4 ? 'a' : 'b'));
    expect(log.list().map((r) => r.requestId)).toEqual(['r5', 'r4', 'r3']);
    expect(log.list({ deployment: 'a' }).map((r) => r.requestId)).toEqual(['r3']);
    expect(log.list({ outcome: 'failed' }).map((r) => r.requestId)).toEqual(['r5', 'r3']);
    expect(log.list({ since: 4, limit: 1 }).map((r) => r.requestId)).toEqual(['r5']);
  });
});

describe('scanModelsFolder', () => {
  let dir: string;
  afterEach(async () => rm(dir, { recursive: true, force: true }));
  it('makes one deployment per model: split models once, sub-folders with their mmproj, top-level projectors paired', async () => {
    dir = await mkdtemp(join(tmpdir(), 'shic-models-'));
    for (const f of [
      'qwen 7b.gguf',
      'big-00001-of-00002.gguf',
      'big-00002-of-00002.gguf',
      'llava.gguf',
      'mmproj-llava.gguf',
      'notes.txt',
    ])
      await writeFile(join(dir, f), '');
    await mkdir(join(dir, 'vision'));
    await writeFile(join(dir, 'vision', 'model-q4.gguf'), '');
    await writeFile(join(dir, 'vision', 'mmproj-f16.gguf'), '');
    const found = await scanModelsFolder(dir, { bootSpec: { ctxSize: 1024 }, idleShutdownMs: 1000 });
    expect(Object.keys(found).sort()).toEqual(['big', 'llava', 'qwen-7b', 'vision']);
    expect(found.big?.bootSpec.model).toBe(join(dir, 'big-00001-of-00002.gguf'));
    expect(found.llava?.bootSpec).toEqual({
      ctxSize: 1024,
      model: join(dir, 'llava.gguf'),
      mmproj: join(dir, 'mmproj-llava.gguf'),
    });
    expect(found.vision?.bootSpec).toMatchObject({
      model: join(dir, 'vision', 'model-q4.gguf'),
      mmproj: join(dir, 'vision', 'mmproj-f16.gguf'),
    });
    expect(found['qwen-7b']).toMatchObject({
      backend: 'llama-cpp',
      start: 'on-demand',
      idleShutdownMs: 1000,
    });
  });
});
