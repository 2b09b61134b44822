// A replayed trace: Zipf-distributed requests over 6 models of 3 sizes, 2 clients, memory for about 2 models.
// Through the kernel (residency with that budget; each request ensures, asks, releases) and through
// llama-server's router mode with `--models-max 2` (it counts models, not bytes). For both: how many loads, how
// often the memory actually held went over the budget, the peak, and p99 wait to the first token. "Held" is what
// each loaded server reported allocating (its buffers, measured once per model with the same arguments).
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { createLlamaCppBackend } from '../backends/llama-cpp/index.js';
import { createKernel, type KernelEvent } from '../src/index.js';
import { writeShapedModel } from '../src/testing/shaped-model.js';
import { measureLlamaBuffers } from '../test/support/llama-buffers.js';
import { realLlamaServer } from '../test/support/llama-fixture.js';
import type { Benchmark } from './benchmark.js';
import { startRouter } from './peer-servers.js';
import { figure } from './report.js';
import { elapsed, summarize } from './stats.js';

const REQUESTS = Number(process.env.SHIC_TRACE_REQUESTS ?? 60);
const CLIENTS = 2;
const ARGS = ['--ctx-size', '2048', '--parallel', '1', '--no-repack'];
const MiB = 1024 * 1024;
const SHAPES = {
  small: { blocks: 4, embedding: 256, heads: 4, kvHeads: 4, feedForward: 704, contextLength: 2048 },
  medium: { blocks: 6, embedding: 384, heads: 6, kvHeads: 6, feedForward: 1024, contextLength: 2048 },
  large: { blocks: 8, embedding: 512, heads: 8, kvHeads: 8, feedForward: 1408, contextLength: 2048 },
};
const MODELS = ['large-1', 'small-1', 'medium-1', 'large-2', 'small-2', 'medium-2'] as const;
type Model = (typeof MODELS)[number];
const CONSUMER = {
  consumer: 'bench',
  acceptedRuntimeKinds: ['service' as const],
  acceptedManagementModes: ['kernel_managed' as const],
  acceptedProtocols: ['openai_chat_completions'],
};

// A fixed trace: Zipf (s = 1.1) over the models in MODELS order, from a seeded generator.
function zipfTrace(count: number, seed = 7): Model[] {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const weights = MODELS.map((_, i) => 1 / (i + 1) ** 1.1);
  const total = weights.reduce((a, b) => a + b, 0);
  return Array.from({ length: count }, () => {
    let r = random() * total;
    for (const [i, w] of weights.entries()) {
      r -= w;
      if (r <= 0) return MODELS[i]!;
    }
    return MODELS[MODELS.length - 1]!;
  });
}

async function ask(client: Agent, base: string, model: string): Promise<void> {
  const res = await request(`${base}/v1/completions`, {
    method: 'POST',
    dispatcher: client,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, prompt: 'a', max_tokens: 4 }),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${base} answered ${res.statusCode} for ${model}: ${text}`);
}

async function rssOf(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    if (match) total += Number(match[1]) * 1024;
  }
  return total;
}

async function childrenOf(parent: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) out.push(Number(name));
  }
  return out;
}

/** Replays the trace with CLIENTS workers; samples held memory every 20 ms; returns waits and samples. */
async function replay(
  trace: Model[],
  serve: (model: Model) => Promise<void>,
  sample: () => Promise<{ held: number; rss: number }>,
) {
  const waits: number[] = [];
  const samples: Array<{ held: number; rss: number }> = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      samples.push(await sample());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  let next = 0;
  const worker = async () => {
    while (next < trace.length) {
      const model = trace[next++]!;
      const t0 = process.hrtime.bigint();
      await serve(model);
      waits.push(elapsed(t0, process.hrtime.bigint(), 'ms'));
    }
  };
  try {
    await Promise.all(Array.from({ length: CLIENTS }, worker));
  } finally {
    done = true;
    await sampler;
  }
  return { waits, samples };
}

export const residencyTrace: Benchmark = {
  id: 'residency-trace',
  title: `residency: replayed Zipf trace, 6 models of 3 sizes, memory for ~2 (${REQUESTS} requests, ${CLIENTS} clients)`,
  async run(context) {
    const { binaryPath, vocabPath } = await realLlamaServer({ onProgress: () => {} });
    const dir = await mkdtemp(path.join(tmpdir(), 'shic-bench-trace-'));
    context.defer(() => rm(dir, { recursive: true, force: true }));
    const files = {} as Record<Model, string>;
    const held = {} as Record<Model, number>;
    for (const [size, shape] of Object.entries(SHAPES)) {
      const file = await writeShapedModel({ shape, vocabPath, path: path.join(dir, `${size}.gguf`) });
      const reported = await measureLlamaBuffers(binaryPath, file, ARGS);
      for (const twin of [1, 2]) {
        const name = `${size}-${twin}` as Model;
        files[name] = path.join(dir, `${name}.gguf`);
        await symlink(file, files[name]);
        held[name] = reported.total;
      }
      context.progress(`${size}: llama-server reports ${(reported.total / MiB).toFixed(1)} MiB`);
    }
    const sizes = MODELS.map((m) => held[m]);
    const budget = Math.round((2 * sizes.reduce((a, b) => a + b, 0)) / sizes.length);
    const trace = zipfTrace(REQUESTS);
    const client = new Agent({ connections: 8 });
    context.defer(() => client.close());

    // Through the kernel.
    const kernel = createKernel({
      stateDir: dir,
      backends: [createLlamaCppBackend({ binaryPath })],
      residency: { budgets: { system: budget }, detect: false, queueTimeoutMs: 300_000 },
    });
    context.defer(() => kernel.close());
    const events: KernelEvent[] = [];
    kernel.on('*', (event) => {
      events.push(event);
      if (process.env.SHIC_TRACE_DEBUG)
        console.error(
          event.type,
          event.instanceId,
          (event as { reason?: string }).reason ?? '',
          (event as { state?: string }).state ?? '',
        );
    });
    const modelOf = new Map<string, Model>();
    const viaKernel = await replay(
      trace,
      async (model) => {
        const { endpoint, lease } = await kernel.ensureEndpoint(
          {
            requestId: model,
            targetPreference: {
              backend: 'llama-cpp',
              bootSpec: {
                model: files[model],
                alias: model,
                ctxSize: 2048,
                parallel: 1,
                extraArgs: ['--no-repack'],
              },
            },
          },
          CONSUMER,
          { runId: 'trace', attemptId: model },
          { ownerRef: 'trace' },
        );
        modelOf.set(lease.instanceId, model);
        try {
          await ask(client, endpoint.baseUrl.replace(/\/v1$/, ''), model);
        } finally {
          kernel.releaseLease(lease.leaseRef);
        }
      },
      async () => {
        const live = kernel
          .listInstances()
          .filter((i) => ['starting', 'ready', 'degraded', 'stopping'].includes(i.state));
        return {
          held: live.reduce(
            (sum, i) => sum + (modelOf.has(i.instanceId) ? held[modelOf.get(i.instanceId)!] : 0),
            0,
          ),
          rss: await rssOf(live.flatMap((i) => (i.pid ? [i.pid] : []))),
        };
      },
    );
    const kernelLoads = events.filter((e) => e.type === 'instance.spawned').length;
    const kernelEvictions = events.filter((e) => e.type === 'residency.evicting').length;
    await kernel.close();

    // Through the router.
    const router = await startRouter(context, binaryPath, files, { modelsMax: 2, args: ARGS });
    let routerLoads = 0;
    const loaded = new Set<string>();
    const routerPid = router.pid;
    const viaRouter = await replay(
      trace,
      (model) => ask(client, router.url, model),
      async () => {
        const res = await request(`${router.url}/v1/models`);
        const body = (await res.body.json()) as { data: Array<{ id: string; status?: { value?: string } }> };
        let sum = 0;
        for (const m of body.data) {
          const state = m.status?.value;
          if (state === 'loaded' || state === 'loading') {
            sum += held[m.id as Model] ?? 0;
            if (!loaded.has(m.id)) routerLoads += 1;
            loaded.add(m.id);
          } else loaded.delete(m.id);
        }
        return { held: sum, rss: routerPid ? await rssOf(await childrenOf(routerPid)) : 0 };
      },
    );

    const over = (s: Array<{ held: number }>) => s.filter((x) => x.held > budget).length;
    const peak = (s: Array<{ held: number; rss: number }>, k: 'held' | 'rss') =>
      Math.max(0, ...s.map((x) => x[k])) / MiB;
    const kernelWait = summarize(viaKernel.waits);
    const routerWait = summarize(viaRouter.waits);
    return {
      figures: [
        figure({
          name: 'kernel: samples over the budget (memory held by loaded servers)',
          unit: 'count',
          summary: summarize([over(viaKernel.samples)]),
          target: { kind: 'exactly', value: 0, label: '0 violations' },
          extra: {
            samples: viaKernel.samples.length,
            'peak held MiB': peak(viaKernel.samples, 'held').toFixed(0),
            'peak RSS MiB': peak(viaKernel.samples, 'rss').toFixed(0),
            loads: kernelLoads,
            evictions: kernelEvictions,
          },
        }),
        figure({
          name: 'router --models-max 2: samples over the same budget',
          unit: 'count',
          summary: summarize([over(viaRouter.samples)]),
          extra: {
            samples: viaRouter.samples.length,
            'peak held MiB': peak(viaRouter.samples, 'held').toFixed(0),
            'peak RSS MiB': peak(viaRouter.samples, 'rss').toFixed(0),
            loads: routerLoads,
          },
        }),
        figure({
          name: 'kernel: wait per request (ensure, load if needed, 4 tokens)',
          unit: 'ms',
          summary: kernelWait,
          baseline: { name: 'router --models-max 2, same trace', summary: routerWait },
        }),
      ],
      notes: [
        `budget ${(budget / MiB).toFixed(0)} MiB = 2 × the mean of ${MODELS.map((m) => `${m} ${(held[m] / MiB).toFixed(0)}`).join(', ')} MiB`,
        `trace: ${trace.join(' ')}`,
        'router loads are counted from its /v1/models polled every 20 ms (a load shorter than that can be missed)',
      ],
    };
  },
};
