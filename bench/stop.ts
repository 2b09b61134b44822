// Stop: stopInstance → process gone, for a stand-in that honours SIGTERM and one that ignores it (stopTimeoutMs
// 500 → SIGKILL), against a raw execa child of the same stand-in killed with SIGTERM. Interleaved rounds.
import { execa } from 'execa';
import type { Kernel } from '../src/kernel/kernel.js';
import { STAND_IN_SERVER } from '../test/support/stand-in-backend.js';
import { benchKernel, benchStandInBackend, processExists, until } from './bench-kernel.js';
import type { Benchmark } from './benchmark.js';
import { figure } from './report.js';
import { elapsed, summarize } from './stats.js';

const ROUNDS = 10;
const STOP_TIMEOUT_MS = 500;

// Starts an instance, then times stopInstance until its pid no longer exists.
async function kernelStop(kernel: Kernel, name: string, flags: string[]): Promise<number> {
  const { instance } = await kernel.ensureInstance({
    backend: 'stand-in',
    bootSpec: { name, flags, plan: { stopTimeoutMs: STOP_TIMEOUT_MS, healthIntervalMs: 5_000 } },
  });
  const pid = instance.pid!;
  const t0 = process.hrtime.bigint();
  await kernel.stopInstance(instance.instanceId);
  await until(() => !processExists(pid), 10_000);
  return elapsed(t0, process.hrtime.bigint(), 'ms');
}

// The floor: a child we spawned ourselves, SIGTERM, wait for its exit (execa reaps it).
async function rawStop(): Promise<number> {
  const child = execa(process.execPath, [STAND_IN_SERVER, '--port', '0'], { stdin: 'ignore', reject: false });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', () => reject(new Error('raw stand-in exited before it was ready')));
  });
  const pid = child.pid!;
  const t0 = process.hrtime.bigint();
  child.kill('SIGTERM');
  await child;
  await until(() => !processExists(pid), 10_000);
  return elapsed(t0, process.hrtime.bigint(), 'ms');
}

export const stop: Benchmark = {
  id: 'stop',
  title: 'stop latency',
  async run(context) {
    const kernel = await benchKernel(context, [benchStandInBackend()]);
    const honour: number[] = [];
    const ignore: number[] = [];
    const raw: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const steps = [
        async () => honour.push(await kernelStop(kernel, `honour-${round}`, [])),
        async () => ignore.push(await kernelStop(kernel, `ignore-${round}`, ['--ignore-sigterm'])),
        async () => raw.push(await rawStop()),
      ];
      // Rotate the order each round so no variant always runs first.
      for (let s = 0; s < steps.length; s++) await steps[(s + round) % steps.length]!();
    }
    context.progress(`${ROUNDS} rounds of each variant done`);
    const baseline = { name: 'raw child SIGTERM → exit', summary: summarize(raw) };
    const ignoring = summarize(ignore);
    return {
      figures: [
        figure({
          name: 'stop: SIGTERM-honouring stand-in → gone',
          unit: 'ms',
          summary: summarize(honour),
          baseline,
        }),
        figure({
          name: `stop: SIGTERM-ignoring stand-in → gone (stopTimeoutMs ${STOP_TIMEOUT_MS})`,
          unit: 'ms',
          summary: ignoring,
          baseline,
          extra: { 'beyond stopTimeoutMs': ignoring.median - STOP_TIMEOUT_MS },
        }),
      ],
      notes: [
        'time from the stopInstance call until the pid no longer exists (kill(pid, 0) fails); the ignoring child is SIGKILLed by the kernel after stopTimeoutMs.',
      ],
    };
  },
};
