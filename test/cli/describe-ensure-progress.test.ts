import { describe, expect, it } from 'vitest';
import { describeEnsureProgress } from '../../src/cli/render/describe-ensure-progress.js';
import type { KernelEvent } from '../../src/telemetry/kernel-events.js';

const MiB = 1024 * 1024;
const base = { instanceId: 'i-c', instanceKey: 'k', backend: 'llama-cpp', at: 0 };
const names: Record<string, string> = { 'i-a': 'chat-a', 'i-b': 'chat-b' };
const nameOf = (id: string) => names[id] ?? id;

describe('describeEnsureProgress', () => {
  it('says what an ensure waits for: memory and who holds it, then the admission and the load', () => {
    const lines = (
      [
        {
          type: 'residency.queued',
          ...base,
          bytes: { system: 18 * MiB },
          position: 1,
          blocking: [
            { instanceId: 'i-a', backend: 'llama-cpp', bytes: { system: 18 * MiB }, reason: 'leased' },
          ],
        },
        {
          type: 'residency.admitted',
          ...base,
          bytes: { system: 18 * MiB },
          source: 'calibrated',
          waitedMs: 6_000,
          evicted: ['i-a'],
        },
        {
          type: 'residency.admitted',
          ...base,
          bytes: { system: 18 * MiB },
          source: 'estimated',
          waitedMs: 0,
          evicted: [],
        },
        { type: 'instance.progress', ...base, phase: 'loading', message: 'loading tensors' },
        { type: 'instance.ready', ...base, readyMs: 120, queuedMs: 6_000 },
        {
          type: 'lease.acquired',
          leaseRef: 'l',
          instanceId: 'i-c',
          backend: 'llama-cpp',
          ownerRef: 'o',
          at: 0,
          ttlMs: 1,
          expiresAt: 1,
          waitedMs: 0,
          exclusive: false,
        },
      ] as KernelEvent[]
    ).map((event) => describeEnsureProgress(event, nameOf));
    expect(lines[0]).toBe('waiting for memory: needs 18 MiB, queue position 1; held by chat-a (leased)');
    expect(lines[1]).toMatch(/^memory admitted after .+ \(evicted chat-a\)$/);
    expect(lines[2]).toBeUndefined();
    expect(lines[3]).toBe('loading: loading tensors');
    expect(lines[4]).toMatch(/^ready in /);
    expect(lines[5]).toBeUndefined();
  });
});
