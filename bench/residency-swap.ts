// Swapping models within a budget that holds one: a request for B while A is loaded and idle, to B's first
// token. Through the kernel (residency evicts A, waits for its process to exit, starts B), against raw (SIGTERM A,
// wait for its exit, spawn B, poll /health, request) and llama-server's router mode with `--models-max 1`.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { createLlamaCppBackend } from '../backends/llama-cpp/index.js';
import { createKernel } from '../src/index.js';
import { realLlamaServer } from '../test/support/llama-fixture.js';
import type { Benchmark } from './benchmark.js';
import { type RawLlamaServer, spawnRawLlamaServer, startRouter } from './peer-servers.js';
import { figure } from './report.js';
import { elapsed, summarize } from './stats.js';

const PAIRS = 10;
const CONSUMER = {
  consumer: 'bench',
  acceptedRuntimeKinds: ['service' as const],
  acceptedManagementModes: ['kernel_managed' as const],
  acceptedProtocols: ['openai_chat_completions'],
};

async function firstToken(client: Agent, base: string, model: string): Promise<void> {
  const res = await request(`${base}/v1/completions`, {
    method: 'POST',
    dispatcher: client,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt: 'a', max_tokens: 1, stream: true }),
  });
  if (res.statusCode !== 200) throw new Error(`${base} answered ${res.statusCode}: ${await res.body.text()}`);
  for await (const _chunk of res.body) break;
  res.body.destroy();
}

export const residencySwap: Benchmark = {
  id: 'residency-swap',
  title: 'residency: swap A → B within a one-model budget, to the first token',
  async run(context) {
    const { binaryPath, modelPath } = await realLlamaServer({ onProgress: () => {} });
    const dir = await mkdtemp(path.join(tmpdir(), 'shic-bench-swap-'));
    context.defer(() => rm(dir, { recursive: true, force: true }));
    const files = { a: path.join(dir, 'a.gguf'), b: path.join(dir, 'b.gguf') };
    await symlink(modelPath, files.a);
    await symlink(modelPath, files.b);
    const client = new Agent({ connections: 4 });
    context.defer(() => client.close());

    // The kernel: budget 1.5 models, so B evicts A.
    const kernel = createKernel({
      stateDir: dir,
      backends: [createLlamaCppBackend({ binaryPath })],
      residency: { budgets: { system: 30 * 1024 * 1024 }, detect: false },
    });
    context.defer(() => kernel.close());
    const viaKernel = async (name: 'a' | 'b') => {
      const t0 = process.hrtime.bigint();
      const { endpoint, lease } = await kernel.ensureEndpoint(
        {
          requestId: name,
          targetPreference: {
            backend: 'llama-cpp',
            bootSpec: { model: files[name], alias: name, ctxSize: 512 },
          },
        },
        CONSUMER,
        { runId: 'bench', attemptId: name },
        { ownerRef: 'bench' },
      );
      await firstToken(client, endpoint.baseUrl.replace(/\/v1$/, ''), name);
      const ms = elapsed(t0, process.hrtime.bigint(), 'ms');
      kernel.releaseLease(lease.leaseRef);
      return ms;
    };

    // Raw: what a script does without a kernel.
    let running: RawLlamaServer | undefined;
    const spawnRaw = (name: 'a' | 'b') =>
      spawnRawLlamaServer(binaryPath, ['--model', files[name], '--ctx-size', '512', '--alias', name]);
    context.defer(async () => {
      running?.child.kill('SIGKILL');
      await running?.child;
    });
    const viaRaw = async (name: 'a' | 'b') => {
      const t0 = process.hrtime.bigint();
      if (running) {
        running.child.kill('SIGTERM');
        await running.child;
      }
      running = await spawnRaw(name);
      await firstToken(client, running.base, name);
      return elapsed(t0, process.hrtime.bigint(), 'ms');
    };

    const router = await startRouter(context, binaryPath, files, {
      modelsMax: 1,
      args: ['--ctx-size', '512'],
    });
    const viaRouter = async (name: 'a' | 'b') => {
      const t0 = process.hrtime.bigint();
      await firstToken(client, router.url, name);
      return elapsed(t0, process.hrtime.bigint(), 'ms');
    };

    // Load A everywhere first; then each round swaps to the other model.
    await viaKernel('a');
    await viaRaw('a');
    await viaRouter('a');
    const samples = { kernel: [] as number[], raw: [] as number[], router: [] as number[] };
    for (let i = 0; i <= PAIRS; i++) {
      const to = i % 2 === 0 ? 'b' : 'a';
      const k = await viaKernel(to);
      const r = await viaRaw(to);
      const rt = await viaRouter(to);
      if (i === 0) continue; // warm-up
      samples.kernel.push(k);
      samples.raw.push(r);
      samples.router.push(rt);
      context.progress(
        `swap ${i}: kernel ${k.toFixed(0)} ms, raw ${r.toFixed(0)} ms, router ${rt.toFixed(0)} ms`,
      );
    }
    const raw = {
      name: 'raw: SIGTERM A, wait for exit, spawn B, /health (1 ms polling), request',
      summary: summarize(samples.raw),
    };
    const evictions = kernel.memory();
    return {
      figures: [
        figure({
          name: 'kernel: ensure B (evicts idle A, waits for its exit, starts B) → first token',
          unit: 'ms',
          summary: summarize(samples.kernel),
          baseline: raw,
        }),
        figure({
          name: 'llama-server router mode, --models-max 1: request B → first token',
          unit: 'ms',
          summary: summarize(samples.router),
          baseline: raw,
        }),
      ],
      notes: [
        `tiny model (16 MiB), budget ${30} MiB (one model); the kernel's servers run with --log-verbosity 4 (memory reports), the others at their default`,
        `kernel residents at the end: ${evictions?.residents.length ?? 0}`,
      ],
    };
  },
};
