// Soak/chaos: many concurrent callers drive one kernel with random ensures, renews, releases, expiring leases,
// stops, aborted ensures and `kill -9`s of its servers (stand-in servers in several boot specs, plus one real
// llama-server), for SHIC_SOAK_MINUTES (default 2, short enough for CI). Invariants are checked continuously and at the end;
// counts of every action, outcome and check are printed. Replay a run with SHIC_SOAK_SEED=<printed seed>.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setInterval } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createLlamaCppBackend } from '../../backends/llama-cpp/index.js';
import type { ConsumerManifestInput } from '../../src/contracts/consumer-manifest.js';
import type { EndpointRequestInput } from '../../src/contracts/endpoint-request.js';
import { KernelError } from '../../src/errors/kernel-error.js';
import { createKernel } from '../../src/kernel/create-kernel.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { consumerInput } from '../support/consumers.js';
import { waitUntil } from '../support/lifecycle-harness.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { descendantsOf, openFdCount, roleOf } from '../support/process-census.js';
import { createStandInBackend } from '../support/stand-in-backend.js';
import { printTable } from './support/print-table.js';
import { SecretScanner } from './support/secret-scanner.js';
import { seededRandom, seedFromEnv } from './support/seeded-random.js';
import { INVARIANTS, listTree, SoakMonitor } from './support/soak-monitor.js';

const MINUTES = Number(process.env.SHIC_SOAK_MINUTES ?? '2');
const DURATION_MS = Math.max(10_000, Math.round(MINUTES * 60_000));
const WORKERS = 16;
const PHASES = 3;
const SEED = seedFromEnv('SHIC_SOAK_SEED');
// Errors a caller may legitimately get while others stop and kill what it uses.
const EXPECTED_CODES = new Set([
  'aborted',
  'lease_not_found',
  'instance_not_found',
  'instance_stopped',
  'process_exited',
  'crash_loop',
  'readiness_timeout',
]);

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'shic-soak-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const llamaConsumer: ConsumerManifestInput = {
  consumer: 'soak-llama',
  acceptedRuntimeKinds: ['service'],
  acceptedManagementModes: ['kernel_managed'],
  acceptedProtocols: ['openai_chat_completions'],
  requiredCapabilities: { streaming: true },
};

describe('kernel under soak and chaos (stand-in servers + one real llama-server)', () => {
  it('keeps every lease on a serving instance, every process known, and leaves nothing behind', {
    timeout: DURATION_MS + 300_000,
  }, async () => {
    const rng = seededRandom(SEED);
    console.log(
      `[soak] seed ${SEED} (replay: SHIC_SOAK_SEED=${SEED}), ${DURATION_MS / 1000} s, ${WORKERS} callers`,
    );
    const { binaryPath, modelPath } = await realLlamaServer();
    const apiKey = `sk-soak-${randomBytes(12).toString('hex')}`;
    const scanner = new SecretScanner([apiKey]);
    const heapBefore = heapAfterGc();
    const fdBaseline = openFdCount();
    const logger = pino({ level: 'trace' }, scanner.sink('kernel log'));
    const kernel: Kernel = createKernel({
      stateDir,
      logger,
      defaultLeaseTtlMs: 5_000,
      backends: [createStandInBackend(), createLlamaCppBackend({ binaryPath })],
    });
    const eventCounts = new Map<string, number>();
    let spawnedEvents = 0;
    kernel.on('*', (event) => {
      eventCounts.set(event.type, (eventCounts.get(event.type) ?? 0) + 1);
      if (event.type === 'instance.spawned') spawnedEvents += 1;
      scanner.scanJson('events', event);
    });

    const restartPolicy = { backoffBaseMs: 20, backoffMaxMs: 200, maxRestarts: 10, windowMs: 10_000 };
    const standIns: Array<Record<string, unknown>> = [
      { name: 'plain', flags: [], plan: { restartPolicy } },
      { name: 'slow', flags: ['--ready-after-ms', '300'], plan: { restartPolicy } },
      {
        name: 'loader',
        flags: ['--ready-after-ms', '150', '--progress-every-ms', '30'],
        plan: { restartPolicy },
      },
      { name: 'family', flags: ['--fork-grandchild'], plan: { restartPolicy } },
      { name: 'idler', flags: [], plan: { restartPolicy, idleShutdownMs: 400 } },
    ];
    let requestNo = 0;
    const requestFor = (useLlama: boolean): [EndpointRequestInput, ConsumerManifestInput] => {
      requestNo += 1;
      if (useLlama) {
        return [
          {
            requestId: `soak-${requestNo}`,
            targetPreference: {
              backend: 'llama-cpp',
              bootSpec: {
                model: modelPath,
                ctxSize: 256,
                apiKey,
                idleShutdownMs: null,
                stopTimeoutMs: 3_000,
              },
            },
          },
          llamaConsumer,
        ];
      }
      return [
        {
          requestId: `soak-${requestNo}`,
          targetPreference: { backend: 'stand-in', bootSpec: rng.pick(standIns) },
          modelPreference: { id: 'stand-in-model' },
        },
        consumerInput(),
      ];
    };

    const leaseRefs = new Set<string>();
    const monitor = new SoakMonitor({ kernel, stateDir, leaseRefs });
    kernel.on('*', monitor.observe);
    const outcomes = new Map<string, Map<string, number>>();
    const unexpected: string[] = [];
    const tally = (action: string, outcome: string) => {
      const row = outcomes.get(action) ?? new Map<string, number>();
      row.set(outcome, (row.get(outcome) ?? 0) + 1);
      outcomes.set(action, row);
    };
    const run = async (action: string, fn: () => Promise<string | undefined>) => {
      try {
        tally(action, (await fn()) ?? 'ok');
      } catch (error) {
        if (KernelError.isInstance(error)) {
          scanner.scan('error messages', `${error.message} ${JSON.stringify(error)}`);
          tally(action, error.code);
          if (!EXPECTED_CODES.has(error.code)) unexpected.push(`${action}: ${error.code}: ${error.message}`);
        } else {
          tally(action, 'UNTYPED');
          unexpected.push(`${action}: untyped ${String((error as Error)?.stack ?? error)}`);
        }
      }
    };
    const ensure = async (ttlMs: number, signal?: AbortSignal) => {
      const [request, consumer] = requestFor(rng.next() < 0.12);
      const result = await kernel.ensureEndpoint(
        request,
        consumer,
        { runId: 'soak', attemptId: request.requestId },
        { ownerRef: `worker`, ttlMs, ...(signal ? { signal } : {}) },
      );
      scanner.scanJson('endpoints', result);
      leaseRefs.add(result.lease.leaseRef);
      return result.lease.leaseRef;
    };

    const held: string[][] = Array.from({ length: WORKERS }, () => []);
    const deadline = Date.now() + DURATION_MS;
    const weights = {
      ensure: 24,
      'ensure (let expire)': 8,
      renew: 16,
      release: 16,
      leaseInstance: 6,
      'aborted ensure': 10,
      stopInstance: 4,
      'kill -9': 4,
    } as const;

    const worker = async (w: number) => {
      const mine = held[w]!;
      while (Date.now() < deadline) {
        const action = rng.weighted(weights);
        switch (action) {
          case 'ensure':
            await run(action, async () => {
              mine.push(await ensure(rng.pick([2_000, 5_000, 20_000])));
              return undefined;
            });
            break;
          case 'ensure (let expire)':
            await run(action, async () => {
              await ensure(rng.int(50, 600));
              return undefined;
            });
            break;
          case 'renew':
            await run(action, async () => {
              if (mine.length === 0) return 'nothing held';
              kernel.renewLease(rng.pick(mine), rng.pick([2_000, 5_000]));
              return undefined;
            });
            break;
          case 'release':
            await run(action, async () => {
              const ref = mine.splice(rng.int(0, Math.max(0, mine.length - 1)), 1)[0];
              if (ref === undefined) return 'nothing held';
              return kernel.releaseLease(ref) ? 'released' : 'already ended';
            });
            break;
          case 'leaseInstance':
            await run(action, async () => {
              const instances = kernel.listInstances();
              if (instances.length === 0) return 'no instance';
              const lease = await kernel.leaseInstance(rng.pick(instances).instanceId, {
                ownerRef: 'worker',
                ttlMs: 1_000,
              });
              leaseRefs.add(lease.leaseRef);
              mine.push(lease.leaseRef);
              return undefined;
            });
            break;
          case 'aborted ensure':
            await run(action, async () => {
              const controller = new AbortController();
              const after = rng.int(0, 250);
              // Chaos timing, not a wait in the test: the abort lands at a random point of the ensure.
              const timer = setTimeout(() => controller.abort(), after);
              try {
                const ref = await ensure(5_000, controller.signal);
                kernel.releaseLease(ref);
                return 'completed before abort';
              } finally {
                clearTimeout(timer);
              }
            });
            break;
          case 'stopInstance':
            await run(action, async () => {
              const instances = kernel.listInstances();
              if (instances.length === 0) return 'no instance';
              const failed = instances.filter((s) => s.state === 'failed');
              await kernel.stopInstance(rng.pick(failed.length > 0 ? failed : instances).instanceId);
              return failed.length > 0 ? 'stopped a failed one' : undefined;
            });
            break;
          case 'kill -9':
            await run(action, async () => {
              const pids = kernel
                .listInstances()
                .map((s) => s.pid)
                .filter((pid): pid is number => pid !== undefined);
              const servers = descendantsOf(process.pid).filter(
                (p) => pids.includes(p.pid) && (roleOf(p) === 'stand-in' || roleOf(p) === 'llama-server'),
              );
              if (servers.length === 0) return 'no process';
              const victim = rng.pick(servers);
              process.kill(victim.pid, 'SIGKILL');
              return `killed ${roleOf(victim)}`;
            });
            break;
        }
        // Pacing between a caller's actions, so 16 callers do not starve the event loop on 2 cores.
        await new Promise((resolve) => setTimeout(resolve, rng.int(0, 40)));
      }
    };

    const heapByPhase: number[] = [];
    let monitoring = true;
    const monitorLoop = (async () => {
      let nextPhase = Date.now() + DURATION_MS / PHASES;
      // A periodic check (every 200 ms) while the callers run, not a wait for a condition.
      for await (const _tick of setInterval(200)) {
        if (!monitoring) break;
        monitor.check();
        scanner.scanJson('snapshots', kernel.listInstances());
        if (Date.now() >= nextPhase && heapByPhase.length < PHASES - 1) {
          heapByPhase.push(heapAfterGc());
          nextPhase += DURATION_MS / PHASES;
        }
      }
    })();
    await Promise.all(held.map((_, w) => worker(w)));
    heapByPhase.push(heapAfterGc());

    // Quiet period: nothing new happens; every transient mismatch must heal, then none may remain.
    await waitUntil(() => monitor.mismatches().size === 0, {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: 'kernel books and /proc to agree after the chaos',
    }).catch(() => undefined);
    monitoring = false;
    await monitorLoop;
    const strict = monitor.strictCheck();
    const liveAtEnd = kernel.leaseStats().live;
    const instancesAtEnd = kernel.listInstances().length;

    // The llama-server secret must not be on its command line either (it goes through the environment).
    for (const p of descendantsOf(process.pid)) scanner.scan('argv', p.argv.join(' '));

    await kernel.close();
    await waitUntil(() => descendantsOf(process.pid).filter((p) => roleOf(p) !== 'other').length === 0, {
      timeoutMs: 30_000,
      message: 'no server, grandchild or watchdog left after close',
    });
    const leftovers = listTree(stateDir);
    const fds = await waitUntil(
      () => {
        const n = openFdCount();
        return n <= fdBaseline + 4 ? n : undefined;
      },
      { timeoutMs: 30_000, message: `open fds back to the baseline ${fdBaseline}` },
    ).catch(() => openFdCount());
    const heapAfter = heapAfterGc();

    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    printTable(
      'soak actions (outcome counts)',
      [...outcomes].map(([action, row]) => [action, [...row].map(([k, v]) => `${k} ${v}`).join(', ')]),
    );
    printTable(
      'invariant checks',
      INVARIANTS.map((name) => [
        name,
        `${monitor.checks.get(name)} checks, ${monitor.transient.get(name)} transient` +
          (monitor.samples.has(name) ? ` (e.g. ${monitor.samples.get(name)!.join('; ')})` : ''),
      ]),
    );
    printTable(
      'kernel events',
      [...eventCounts].sort().map(([k, v]) => [k, String(v)]),
    );
    printTable(
      'secret scan (chars scanned)',
      [...scanner.scanned].map(([k, v]) => [k, String(v)]),
    );
    printTable('resources', [
      ['heap before / phases / after', [heapBefore, ...heapByPhase, heapAfter].map(mb).join(' → ')],
      ['open fds baseline / after close', `${fdBaseline} / ${fds}`],
      ['live leases / instances before close', `${liveAtEnd} / ${instancesAtEnd}`],
      ['stateDir after close', leftovers.join(' ') || '(empty)'],
      ['spawned processes', String(spawnedEvents)],
      ['leases revoked by a crash (checked exactly)', String(monitor.crashRevocations)],
    ]);

    expect(unexpected).toEqual([]);
    expect(monitor.violations).toEqual([]);
    expect(strict).toEqual([]);
    expect(scanner.leaks).toEqual([]);
    // The chaos really happened: servers were spawned, killed and restarted, leases expired and were revoked.
    expect(spawnedEvents).toBeGreaterThan(5);
    expect(eventCounts.get('lease.expired') ?? 0).toBeGreaterThan(0);
    const kills = [...(outcomes.get('kill -9') ?? new Map<string, number>())]
      .filter(([k]) => k.startsWith('killed'))
      .reduce((sum, [, v]) => sum + v, 0);
    expect(kills).toBeGreaterThan(0);
    // The exact crash-revocation invariant was exercised: leases were held on instances that crashed.
    expect(monitor.crashRevocations).toBeGreaterThan(0);
    // After close: only the documented (empty) process-record directory remains.
    expect(leftovers.filter((entry) => entry !== 'processes/')).toEqual([]);
    expect(fds).toBeLessThanOrEqual(fdBaseline + 4);
    // Heap does not grow across phases (generous bound: GC timing and JIT caches vary).
    const first = heapByPhase[0]!;
    for (const later of heapByPhase.slice(1)) expect(later - first).toBeLessThan(48 * 1024 * 1024);
    expect(heapAfter - heapBefore).toBeLessThan(48 * 1024 * 1024);
  });
});
