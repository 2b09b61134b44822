// 32 concurrent streaming completions: aggregate tokens/s through the gateway against the same 32 streams sent
// directly to the same llama-server, alternating rounds.
import { Agent, request } from 'undici';
import type { Benchmark } from './benchmark.js';
import { startGatewayDaemon } from './gateway-bench-setup.js';
import { findNginx, startNginx } from './peer-servers.js';
import { type Figure, figure } from './report.js';
import { elapsed, summarize } from './stats.js';

const STREAMS = 32;
const ROUNDS = 8;
const MAX_TOKENS = 96;

// Counts the content events of one SSE answer (one token each, as llama-server streams them).
async function stream(client: Agent, base: string): Promise<number> {
  const res = await request(`${base}/v1/completions`, {
    method: 'POST',
    dispatcher: client,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      prompt: 'once upon',
      max_tokens: MAX_TOKENS,
      stream: true,
      ignore_eos: true,
    }),
  });
  if (res.statusCode !== 200) throw new Error(`${base} answered ${res.statusCode}`);
  let tokens = 0;
  let partial = '';
  for await (const chunk of res.body) {
    const lines = (partial + (chunk as Buffer).toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('data: {')) tokens += 1;
  }
  return tokens;
}

async function round(client: Agent, base: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const counts = await Promise.all(Array.from({ length: STREAMS }, () => stream(client, base)));
  const seconds = elapsed(t0, process.hrtime.bigint(), 'ms') / 1000;
  return counts.reduce((a, b) => a + b, 0) / seconds;
}

export const gatewayStreams: Benchmark = {
  id: 'gateway-streams',
  title: `gateway: ${STREAMS} concurrent streams (real llama-server)`,
  async run(context) {
    const bench = await startGatewayDaemon(context, { ctxSize: STREAMS * 256, parallel: STREAMS });
    const client = new Agent({ connections: STREAMS * 2 });
    context.defer(() => client.close());
    const gateway = bench.url;
    await stream(client, gateway);
    const direct = await bench.upstream();
    await round(client, direct);
    const nginxBinary = findNginx();
    const targets: Record<string, string> = { gateway, direct };
    if (nginxBinary) targets.nginx = (await startNginx(context, nginxBinary, direct)).url;
    const names = Object.keys(targets);
    const rates = Object.fromEntries(names.map((n) => [n, [] as number[]]));
    for (let i = 0; i < ROUNDS; i++) {
      // Rotate the order, so no path always follows a cooled-down server.
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length]!;
        rates[name]!.push(await round(client, targets[name]!));
      }
      context.progress(
        `round ${i}: ${names.map((n) => `${n} ${rates[n]!.at(-1)!.toFixed(0)}`).join(', ')} tok/s`,
      );
    }
    const summary = summarize(rates.gateway!);
    const baseline = summarize(rates.direct!);
    const figures: Figure[] = [
      figure({
        name: `aggregate tokens/s of ${STREAMS} concurrent streams through the gateway`,
        unit: 'tok/s',
        summary,
        baseline: { name: 'the same streams direct to llama-server', summary: baseline },
        // Judged as a shortfall in percent of direct, so "at most 3" reads "≥ 97 % of direct".
        target: { kind: 'at-most', value: 3, label: 'shortfall ≤ 3 % (≥ 97 % of direct)' },
        judged: Math.max(0, (1 - summary.median / baseline.median) * 100),
        extra: { 'gateway ÷ direct (medians)': summary.median / baseline.median },
      }),
    ];
    if (rates.nginx) {
      const nginx = summarize(rates.nginx);
      figures.push(
        figure({
          name: `the same ${STREAMS} streams through nginx proxy_pass (proxy_buffering off)`,
          unit: 'tok/s',
          summary: nginx,
          baseline: { name: 'the same streams direct to llama-server', summary: baseline },
          extra: { 'nginx ÷ direct (medians)': nginx.median / baseline.median },
        }),
      );
    }
    return {
      figures,
      notes: nginxBinary ? [] : ['nginx not installed (apt-get install nginx): its row is missing.'],
    };
  },
};
