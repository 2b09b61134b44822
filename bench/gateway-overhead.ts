// Warm request overhead of the gateway: the same tiny completion sent directly to llama-server, through the
// gateway, through nginx (proxy_pass, upstream keep-alive) and through llama-server's router mode, interleaved
// in rotating order so every path sees the same machine load. The overhead is the median of paired differences.
import { Agent, request } from 'undici';
import type { Benchmark } from './benchmark.js';
import { startGatewayDaemon } from './gateway-bench-setup.js';
import { findNginx, startNginx, startRouter } from './peer-servers.js';
import { type Figure, figure } from './report.js';
import { elapsed, summarize } from './stats.js';

const WARMUP = 50;
const ROUNDS = 600;
const BODY = JSON.stringify({
  model: 'tiny',
  prompt: 'a',
  max_tokens: 1,
  temperature: 0,
  cache_prompt: true,
});

export const gatewayOverhead: Benchmark = {
  id: 'gateway',
  title: 'gateway warm request overhead (real llama-server)',
  async run(context) {
    const bench = await startGatewayDaemon(context, { ctxSize: 512, parallel: 1 });
    const client = new Agent({ connections: 4 });
    context.defer(() => client.close());
    const reconnects: Record<string, number> = {};
    const post = (base: string) =>
      request(`${base}/v1/completions`, {
        method: 'POST',
        dispatcher: client,
        headers: { 'content-type': 'application/json' },
        body: BODY,
      });
    const send = async (base: string) => {
      const t0 = process.hrtime.bigint();
      // A server that closes idle keep-alive connections makes the next POST on a stale socket fail: the client
      // reconnects and sends it again, and that time counts, as it would for any client.
      const res = await post(base).catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== 'UND_ERR_SOCKET') throw error;
        reconnects[base] = (reconnects[base] ?? 0) + 1;
        return post(base);
      });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`${base} answered ${res.statusCode}`);
      return elapsed(t0, process.hrtime.bigint(), 'ms');
    };
    await send(bench.url); // starts the deployment
    const targets: Record<string, string> = {
      direct: await bench.upstream(),
      gateway: bench.url,
    };
    const notes: string[] = [];
    const nginx = findNginx();
    if (nginx) targets.nginx = (await startNginx(context, nginx, targets.direct!)).url;
    else notes.push('nginx not installed (apt-get install nginx): its row is missing.');
    const router = await startRouter(
      context,
      bench.binaryPath,
      { tiny: bench.modelPath },
      {
        modelsMax: 1,
        args: ['--ctx-size', '512', '--parallel', '1'],
      },
    );
    targets.router = router.url;
    const names = Object.keys(targets);
    const samples = Object.fromEntries(names.map((n) => [n, [] as number[]]));
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length]!;
        const ms = await send(targets[name]!);
        if (round >= WARMUP) samples[name]!.push(ms);
      }
      if (round % 200 === 0) context.progress(`round ${round}/${WARMUP + ROUNDS}`);
    }
    const direct = summarize(samples.direct!);
    const paired = (name: string) => summarize(samples[name]!.map((ms, i) => ms - samples.direct![i]!));
    const figures: Figure[] = [];
    const gatewayOverheadMs = paired('gateway').median;
    figures.push(
      figure({
        name: 'warm completion through the gateway vs direct to llama-server (max_tokens 1)',
        unit: 'ms',
        summary: summarize(samples.gateway!),
        baseline: { name: 'direct to llama-server', summary: direct },
        target: { kind: 'at-most', value: 0.3, label: 'overhead ≤ 0.3 ms (median of paired differences)' },
        judged: gatewayOverheadMs,
        extra: {
          'gateway overhead p50 (paired)': gatewayOverheadMs,
          'gateway overhead p99 (paired)': paired('gateway').p99,
        },
      }),
    );
    if (samples.nginx) {
      const nginxOverheadMs = paired('nginx').median;
      figures.push(
        figure({
          name: 'the same through nginx proxy_pass (upstream keep-alive)',
          unit: 'ms',
          summary: summarize(samples.nginx),
          baseline: { name: 'direct to llama-server', summary: direct },
          target: { kind: 'at-most', value: 1.5, label: 'gateway overhead ≤ 1.5 × nginx overhead' },
          judged: gatewayOverheadMs / Math.max(nginxOverheadMs, 1e-9),
          extra: {
            'nginx overhead p50 (paired)': nginxOverheadMs,
            'gateway ÷ nginx overhead': gatewayOverheadMs / nginxOverheadMs,
          },
        }),
      );
    }
    figures.push(
      figure({
        name: "the same through llama-server's router mode (--models-dir, --models-max 1)",
        unit: 'ms',
        summary: summarize(samples.router!),
        baseline: { name: 'direct to llama-server', summary: direct },
        extra: { 'router overhead p50 (paired)': paired('router').median },
      }),
    );
    for (const name of names) {
      const count = reconnects[targets[name]!];
      if (count)
        notes.push(
          `${name}: ${count} requests met a keep-alive connection the server had closed and were sent again (counted in the time).`,
        );
    }
    return { figures, notes };
  },
};
