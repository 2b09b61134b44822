// Scale: 100 stand-in instances + 10 000 leases in a kernel of its own process (bench/scale-worker.ts): RSS,
// expiry work per tick and event-loop delay while the leases expire, against the same process before the kernel.
import { execa } from 'execa';
import type { Benchmark } from './benchmark.js';
import { compileForNode } from './compile-for-node.js';
import { figure } from './report.js';
import type { ScaleFigures } from './scale-worker.js';
import { summarize } from './stats.js';

export const scale: Benchmark = {
  id: 'scale',
  title: 'scale (100 instances, 10 000 leases)',
  async run(context) {
    context.progress('transpiling the worker for bare node');
    const worker = await compileForNode('bench/scale-worker.ts');
    context.progress('starting the worker process (100 stand-in servers, 10 000 leases, ~15 s)');
    const child = execa(process.execPath, ['--expose-gc', worker], {
      stdin: 'ignore',
      stderr: 'inherit',
      timeout: 180_000,
    });
    context.defer(() => {
      if (child.exitCode === null) child.kill('SIGTERM');
    });
    const { stdout } = await child;
    const f = JSON.parse(stdout.trim().split('\n').at(-1)!) as ScaleFigures;
    if (f.instances !== 100) throw new Error(`expected 100 instances, the worker had ${f.instances}`);
    const one = (value: number) => summarize([value]);
    return {
      figures: [
        figure({
          name: `kernel process RSS, ${f.instances} instances + ${f.leases} leases`,
          unit: 'MB',
          summary: one(f.rssMb),
          baseline: { name: 'same process before createKernel', summary: one(f.baselineRssMb) },
          target: { kind: 'at-most', value: 80 },
          extra: {
            'with instances, no leases MB': f.instancesRssMb,
            'heap used MB': f.heapUsedMb,
            'heap total MB': f.heapTotalMb,
            'external MB': f.externalMb,
          },
        }),
        figure({
          name: 'leases expired per expiry tick',
          unit: 'leases',
          summary: f.expiredPerTick,
          extra: { ticks: f.expiryTicks, 'expiry wall ms': f.expiryWallMs },
        }),
        figure({
          name: 'event-loop delay while 10 000 leases expire',
          unit: 'ms',
          summary: f.delayExpiring,
          baseline: { name: 'idle, same leases live', summary: f.delayIdle },
        }),
      ],
      notes: [
        'RSS is the worker process alone (bare node running the transpiled kernel + bench driver; children excluded), after a forced GC. TTLs are staggered so expiries spread over 5 s; expired-per-tick counts `lease.expired` events per macrotask. Event-loop delay from perf_hooks.monitorEventLoopDelay (1 ms resolution).',
      ],
    };
  },
};
