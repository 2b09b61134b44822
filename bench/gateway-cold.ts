import { Agent, request } from 'undici';
import type { Benchmark } from './benchmark.js';
import { startGatewayDaemon } from './gateway-bench-setup.js';
import { spawnRawLlamaServer, startRouter } from './peer-servers.js';
import { figure } from './report.js';
import { elapsed, summarize } from './stats.js';

const PAIRS = 12;
const BODY = JSON.stringify({ model: 'tiny', prompt: 'a', max_tokens: 1, stream: true });

// Milliseconds from sending the request to its first body byte.
async function firstToken(client: Agent, base: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const res = await request(`${base}/v1/completions`, {
    method: 'POST',
    dispatcher: client,
    headers: { 'content-type': 'application/json' },
    body: BODY,
  });
  if (res.statusCode !== 200) throw new Error(`${base} answered ${res.statusCode}: ${await res.body.text()}`);
  for await (const _chunk of res.body) break;
  return elapsed(t0, process.hrtime.bigint(), 'ms');
}

export const gatewayCold: Benchmark = {
  id: 'gateway-cold',
  title: 'gateway: cold request → first token (real llama-server)',
  async run(context) {
    const bench = await startGatewayDaemon(context, { ctxSize: 512 });
    const client = new Agent({ connections: 2 });
    context.defer(() => client.close());
    const router = await startRouter(
      context,
      bench.binaryPath,
      { tiny: bench.modelPath },
      {
        modelsMax: 1,
        args: ['--ctx-size', '512'],
      },
    );
    const gateway = bench.url;
    const raw = async () => {
      const t0 = process.hrtime.bigint();
      const { child, base } = await spawnRawLlamaServer(bench.binaryPath, [
        '--model',
        bench.modelPath,
        '--ctx-size',
        '512',
        '--alias',
        'tiny',
      ]);
      try {
        await firstToken(client, base);
        return elapsed(t0, process.hrtime.bigint(), 'ms');
      } finally {
        child.kill('SIGKILL');
        await child;
      }
    };
    const samples = { gateway: [] as number[], raw: [] as number[], router: [] as number[] };
    for (let i = 0; i <= PAIRS; i++) {
      const g = await firstToken(client, gateway);
      await bench.stopInstances();
      const r = await raw();
      const rt = await firstToken(client, router.url);
      await router.unload('tiny');
      if (i === 0) continue; // warm-up: page cache, first exec
      samples.gateway.push(g);
      samples.raw.push(r);
      samples.router.push(rt);
      context.progress(
        `pair ${i}: gateway ${g.toFixed(0)} ms, raw ${r.toFixed(0)} ms, router ${rt.toFixed(0)} ms`,
      );
    }
    const rawSummary = summarize(samples.raw);
    return {
      figures: [
        figure({
          name: 'cold request → first token through the gateway (starts llama-server)',
          unit: 'ms',
          summary: summarize(samples.gateway),
          baseline: { name: 'raw spawn → /health 200 (1 ms polling) → same request', summary: rawSummary },
          target: { kind: 'at-most', value: 15, label: 'overhead ≤ 15 ms' },
          judged: summarize(samples.gateway).median - rawSummary.median,
        }),
        figure({
          name: "the same through llama-server's router mode (loads on demand)",
          unit: 'ms',
          summary: summarize(samples.router),
          baseline: { name: 'raw spawn → /health 200 (1 ms polling) → same request', summary: rawSummary },
        }),
      ],
      notes: [],
    };
  },
};
