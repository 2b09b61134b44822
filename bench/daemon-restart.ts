// A restart with three loaded models, until all three serve again (a first token from each): with adoption (the new
// kernel adopts the running llama-servers) against without it (the old kernel stops them, the new one loads them
// again — what llama-swap, Ollama and llama-server's router mode do when their front process restarts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { createLlamaCppBackend } from '../backends/llama-cpp/index.js';
import { createKernel, type InstanceSpecInput, type Kernel, StateStore } from '../src/index.js';
import { realLlamaServer } from '../test/support/llama-fixture.js';
import type { Benchmark } from './benchmark.js';
import { figure } from './report.js';
import { elapsed, summarize } from './stats.js';

const ROUNDS = 5;
const NAMES = ['a', 'b', 'c'];

async function firstToken(client: Agent, baseUrl: string, headers: Record<string, string>, model: string) {
  const res = await request(`${baseUrl}/completions`, {
    method: 'POST',
    dispatcher: client,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, prompt: 'a', max_tokens: 1, stream: true }),
  });
  if (res.statusCode !== 200)
    throw new Error(`${baseUrl} answered ${res.statusCode}: ${await res.body.text()}`);
  for await (const _chunk of res.body) break;
  res.body.destroy();
}

export const daemonRestart: Benchmark = {
  id: 'daemon-restart',
  title: 'durable state: restart with 3 loaded models until all serve again',
  async run(context) {
    const { binaryPath, modelPath } = await realLlamaServer({ onProgress: () => {} });
    const dir = await mkdtemp(path.join(tmpdir(), 'shic-bench-restart-'));
    context.defer(() => rm(dir, { recursive: true, force: true }));
    const client = new Agent({ connections: 8 });
    context.defer(() => client.close());
    const specs: Record<string, InstanceSpecInput> = Object.fromEntries(
      NAMES.map((name) => [
        name,
        {
          backend: 'llama-cpp',
          bootSpec: { model: modelPath, alias: name, ctxSize: 512 },
          metadata: { name },
        },
      ]),
    );
    let live: { kernel: Kernel; store: StateStore } | undefined;
    context.defer(async () => {
      await live?.kernel.close();
      live?.store.close();
    });
    const open = async (adopt: boolean) => {
      const store = await StateStore.open(dir);
      const kernel = createKernel({
        stateDir: dir,
        store,
        residency: false,
        backends: [createLlamaCppBackend({ binaryPath })],
        adoption: adopt ? { graceMs: 30_000, resolveSpec: (row) => specs[String(row.metadata.name)] } : false,
      });
      live = { kernel, store };
      return kernel;
    };
    // Every model serving: ensure (a no-op for adopted ones) and a first token from each, in parallel.
    const allServe = (kernel: Kernel) =>
      Promise.all(
        NAMES.map(async (name) => {
          const { instance } = await kernel.ensureInstance(specs[name]!);
          const endpoint = instance.endpoint!;
          const headers = Object.fromEntries(
            Object.entries(endpoint.headers).map(([k, v]) => [k, typeof v === 'string' ? v : v.expose()]),
          );
          await firstToken(client, endpoint.baseUrl, headers, name);
        }),
      );
    const restart = async (adopt: boolean) => {
      const old = live!;
      const t0 = process.hrtime.bigint();
      await old.kernel.close({ keep: adopt });
      old.store.close();
      const kernel = await open(adopt);
      await allServe(kernel);
      const ms = elapsed(t0, process.hrtime.bigint(), 'ms');
      if (adopt) {
        const report = await kernel.adoption();
        if (report?.adopted.length !== NAMES.length)
          throw new Error(`adopted ${report?.adopted.length ?? 0} of ${NAMES.length}`);
      }
      return ms;
    };
    const samples = { adopt: [] as number[], reload: [] as number[] };
    await allServe(await open(true));
    for (let i = 0; i <= ROUNDS; i++) {
      const adopted = await restart(true);
      const reloaded = await restart(false);
      // Back to a kernel with adoption on (and its servers loaded) for the next round.
      await live!.kernel.close();
      live!.store.close();
      await allServe(await open(true));
      if (i === 0) continue; // warm-up
      samples.adopt.push(adopted);
      samples.reload.push(reloaded);
      context.progress(`round ${i}: adopt ${adopted.toFixed(0)} ms, reload ${reloaded.toFixed(0)} ms`);
    }
    const baseline = {
      name: 'restart without adoption: stop the 3 servers, start and load them again → first tokens',
      summary: summarize(samples.reload),
    };
    return {
      figures: [
        figure({
          name: 'restart with adoption: hand over, adopt the 3 running servers → first tokens',
          unit: 'ms',
          summary: summarize(samples.adopt),
          baseline,
        }),
      ],
      notes: [
        `tiny ${path.basename(modelPath)} models (load in well under a second): with real weights the reload side grows with model size, the adoption side does not`,
      ],
    };
  },
};
