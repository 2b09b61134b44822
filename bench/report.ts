// The benchmark report: machine facts, every figure with its baseline and target, rendered as Markdown and JSON.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Summary } from './stats.js';

/** A target a figure's median must meet (`at-most`: median ≤ value; `exactly`: median = value). */
export interface Target {
  kind: 'at-most' | 'exactly';
  value: number;
  /** The unit of `value` when it differs from the figure's (e.g. an overhead target). */
  label?: string;
}

/** One measured quantity, its unit, and how it compares to its baseline and target. */
export interface Figure {
  /** Short name, e.g. "warm ensureEndpoint (llama-cpp)". */
  name: string;
  /** Unit of every summary field: 'µs', 'ms', 'MB', 'count', … */
  unit: string;
  summary: Summary;
  /** The same operation without the kernel, measured in the same run, interleaved. */
  baseline?: { name: string; summary: Summary };
  /** median / baseline median, when a baseline exists. */
  ratio?: number;
  /** Median minus baseline median, in `unit`, when a baseline exists. */
  overhead?: number;
  target?: Target;
  /** The value the target is judged on. @default summary.median */
  judged?: number;
  /** Whether the judged value meets the target; absent without a target. */
  met?: boolean;
  /** Further derived numbers (ops/s, req/s, spawns, …). */
  extra?: Record<string, number | string>;
}

/** What one benchmark produced. */
export interface BenchResult {
  id: string;
  title: string;
  figures: Figure[];
  notes: string[];
  /** Wall time of the benchmark, in ms. */
  durationMs: number;
}

/** The whole run, as written to `bench/results/latest.json`. */
export interface BenchReport {
  date: string;
  machine: { cpuModel: string; cores: number; ramBytes: number; platform: string; arch: string };
  node: string;
  results: BenchResult[];
}

/** Builds a figure, deriving ratio, overhead and the target verdict from its summaries. */
export function figure(input: Omit<Figure, 'ratio' | 'overhead' | 'met'>): Figure {
  const out: Figure = { ...input };
  if (input.baseline) {
    out.ratio = input.summary.median / input.baseline.summary.median;
    out.overhead = input.summary.median - input.baseline.summary.median;
  }
  if (input.target) {
    const judged = input.judged ?? input.summary.median;
    out.met = input.target.kind === 'at-most' ? judged <= input.target.value : judged === input.target.value;
  }
  return out;
}

/** Machine, Node version and date of this run. */
export function describeMachine(): Omit<BenchReport, 'results'> {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    machine: {
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      cores: cpus.length,
      ramBytes: os.totalmem(),
      platform: os.platform(),
      arch: os.arch(),
    },
    node: process.version,
  };
}

function num(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function targetText(f: Figure): string {
  if (!f.target) return '—';
  const op = f.target.kind === 'at-most' ? '≤' : '=';
  const verdict = f.met ? '✅' : '❌';
  return `${f.target.label ?? `median ${op} ${num(f.target.value)} ${f.unit}`} ${verdict}`;
}

function baselineText(f: Figure): string {
  if (!f.baseline) return '—';
  const b = f.baseline.summary;
  return `${f.baseline.name}: ${num(b.median)} / ${num(b.p99)} ${f.unit} (×${num(f.ratio!)}, ${f.overhead! >= 0 ? '+' : '−'}${num(Math.abs(f.overhead!))} ${f.unit})`;
}

function extraText(f: Figure): string {
  if (!f.extra) return '';
  return Object.entries(f.extra)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? num(v) : v}`)
    .join(', ');
}

/** The report as a Markdown table (one row per figure) with a header naming machine, Node and date. */
export function renderMarkdown(report: BenchReport): string {
  const { machine } = report;
  const ram = (machine.ramBytes / 2 ** 30).toFixed(0);
  const lines = [
    `Benchmarks — ${report.date.slice(0, 10)}, ${machine.cpuModel} (${machine.cores} cores, ${ram} GiB), ` +
      `Node ${report.node}, ${machine.platform}/${machine.arch}. Reproduce: \`npm run bench\`.`,
    '',
    '| Figure | Median | p99 | Min | Max | Runs | Baseline (median / p99, ratio, overhead) | Target | Also |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const result of report.results) {
    for (const f of result.figures) {
      const s = f.summary;
      lines.push(
        `| ${f.name} | ${num(s.median)} ${f.unit} | ${num(s.p99)} ${f.unit} | ${num(s.min)} ${f.unit} | ` +
          `${num(s.max)} ${f.unit} | ${s.runs} | ${baselineText(f)} | ${targetText(f)} | ${extraText(f)} |`,
      );
    }
  }
  const notes = report.results.flatMap((r) => r.notes.map((n) => `- ${r.title}: ${n}`));
  if (notes.length) lines.push('', ...notes);
  return lines.join('\n');
}

/** Writes the report as pretty JSON (creating the directory). */
export async function writeReport(report: BenchReport, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
}
