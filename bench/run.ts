// `npm run bench [-- id …]`: runs the benchmarks, prints progress to stderr, then a Markdown table, and writes
// bench/results/latest.json. Every kernel, server and process a benchmark starts is cleaned up before the next.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchContext, Benchmark } from './benchmark.js';
import { coldStart } from './cold-start.js';
import { controlApiEnsure } from './control-api-ensure.js';
import { daemonRestart } from './daemon-restart.js';
import { gatewayCold } from './gateway-cold.js';
import { gatewayOverhead } from './gateway-overhead.js';
import { gatewayStreams } from './gateway-streams.js';
import { type BenchResult, describeMachine, renderMarkdown, writeReport } from './report.js';
import { residencyEstimate } from './residency-estimate.js';
import { residencySwap } from './residency-swap.js';
import { residencyTrace } from './residency-trace.js';
import { scale } from './scale.js';
import { singleFlight } from './single-flight.js';
import { stop } from './stop.js';
import { warmEnsureEndpoint } from './warm-ensure-endpoint.js';

const BENCHMARKS: Benchmark[] = [
  warmEnsureEndpoint,
  controlApiEnsure,
  coldStart,
  singleFlight,
  scale,
  stop,
  gatewayOverhead,
  gatewayStreams,
  gatewayCold,
  residencyEstimate,
  residencySwap,
  residencyTrace,
  daemonRestart,
];

const RESULTS_FILE = fileURLToPath(new URL('./results/latest.json', import.meta.url));

function select(argv: string[]): Benchmark[] {
  if (argv.length === 0) return BENCHMARKS;
  const known = new Map(BENCHMARKS.map((b) => [b.id, b]));
  const unknown = argv.filter((id) => !known.has(id));
  if (unknown.length) {
    process.stderr.write(
      `Unknown benchmark(s): ${unknown.join(', ')}. Known: ${BENCHMARKS.map((b) => b.id).join(', ')}.\n`,
    );
    process.exit(2);
  }
  return argv.map((id) => known.get(id)!);
}

async function runOne(benchmark: Benchmark): Promise<BenchResult> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const context: BenchContext = {
    progress: (message) => process.stderr.write(`[bench ${benchmark.id}] ${message}\n`),
    defer: (cleanup) => {
      cleanups.push(cleanup);
    },
  };
  const started = performance.now();
  context.progress(`${benchmark.title}…`);
  try {
    const result = await benchmark.run(context);
    const durationMs = performance.now() - started;
    context.progress(`done in ${(durationMs / 1000).toFixed(1)} s`);
    return { id: benchmark.id, title: benchmark.title, ...result, durationMs };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await Promise.resolve()
        .then(cleanup)
        .catch((error: unknown) => context.progress(`cleanup failed: ${String(error)}`));
    }
  }
}

// Linux only: pids whose parent is this process, read from /proc (elsewhere: none are reported).
function livingChildren(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          // tsx's esbuild service is ours by design and ends with this process.
          if (stat.includes('(esbuild)')) return false;
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
        } catch {
          return false;
        }
      })
      .map(Number);
  } catch {
    return [];
  }
}

const selected = select(process.argv.slice(2));
const results: BenchResult[] = [];
let failed = false;
for (const benchmark of selected) {
  try {
    results.push(await runOne(benchmark));
  } catch (error) {
    failed = true;
    process.stderr.write(`[bench ${benchmark.id}] FAILED: ${(error as Error).stack ?? String(error)}\n`);
  }
}
const report = { ...describeMachine(), results };
await writeReport(report, RESULTS_FILE);
process.stdout.write(`${renderMarkdown(report)}\n`);
process.stderr.write(`[bench] wrote ${RESULTS_FILE}\n`);
const leftovers = livingChildren();
if (leftovers.length) {
  failed = true;
  process.stderr.write(`[bench] child processes left behind: ${leftovers.join(', ')}\n`);
}

process.exitCode = failed ? 1 : 0;
