import { afterEach, describe, expect, it } from 'vitest';
import { eventsOf, isAlive, kernelHarness, rejectionOf, waitUntil } from '../support/lifecycle-harness.js';

const harness = kernelHarness();
afterEach(() => harness.cleanup());

const standIn = (bootSpec: Record<string, unknown>) => ({ backend: 'stand-in', bootSpec });

describe('InstanceManager', () => {
  it('starts exactly one stand-in for 100 concurrent ensures of one key', async () => {
    const { kernel, events } = harness.create();
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        kernel.ensureInstance(standIn({ flags: ['--ready-after-ms', '200'] })),
      ),
    );
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(1);
    expect(new Set(results.map((r) => r.instance.instanceId)).size).toBe(1);
    expect(results.filter((r) => !r.reused)).toHaveLength(1);
    expect(results.every((r) => r.instance.state === 'ready')).toBe(true);
  });

  it('gives every concurrent caller the same typed error when the one start fails', async () => {
    const { kernel, events } = harness.create();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => kernel.ensureInstance(standIn({ flags: ['--exit-early', '4'] }))),
    );
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(1);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason.code).toBe('process_exited');
    }
  });

  it('reuses a ready instance with the same key and starts different keys in parallel', async () => {
    const { kernel, events } = harness.create();
    const [a, b] = await Promise.all([
      kernel.ensureInstance(standIn({ name: 'a', flags: ['--ready-after-ms', '1500'] })),
      kernel.ensureInstance(standIn({ name: 'b', flags: ['--ready-after-ms', '1500'] })),
    ]);
    expect(a.instance.instanceId).not.toBe(b.instance.instanceId);
    expect(a.instance.port).not.toBe(b.instance.port);
    const spawned = eventsOf(events, 'instance.spawned');
    const readies = eventsOf(events, 'instance.ready');
    // Both were spawned before either became ready: the starts overlapped.
    expect(Math.max(...spawned.map((e) => e.at))).toBeLessThanOrEqual(Math.min(...readies.map((e) => e.at)));
    const again = await kernel.ensureInstance(standIn({ name: 'a' }));
    expect(again).toMatchObject({ reused: true, instance: { instanceId: a.instance.instanceId } });
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(2);
    expect(
      kernel
        .listInstances()
        .map((s) => s.instanceId)
        .sort(),
    ).toEqual([a.instance.instanceId, b.instance.instanceId].sort());
  });

  it('rejects a bad startup plan with invalid_startup_plan before anything is spawned', async () => {
    const { kernel, events, spawned } = harness.create();
    const error = await rejectionOf(
      kernel.ensureInstance(standIn({ plan: { managementMode: 'externally_managed' } })),
    );
    expect(error.code).toBe('invalid_startup_plan');
    expect((error.details as Record<string, unknown>).check).toBe('startup_kind_management_mode_pair');
    expect(spawned.stats.plans).toBe(1);
    expect(spawned.stats.probes).toBe(0);
    expect(events).toEqual([]);
    expect(kernel.listInstances()).toEqual([]);
  });

  it('rejects a bad readyTimeoutMs with invalid_request naming the field, before planning', async () => {
    const { kernel, spawned } = harness.create();
    const error = await rejectionOf(kernel.ensureInstance(standIn({}), { readyTimeoutMs: -5 }));
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('readyTimeoutMs');
    expect(spawned.stats.plans).toBe(0);
  });

  it('rejects an unknown backend with unknown_backend listing the known ones', async () => {
    const { kernel } = harness.create();
    const error = await rejectionOf(kernel.ensureInstance({ backend: 'nope' }));
    expect(error.code).toBe('unknown_backend');
    expect(error.knownBackends).toEqual(['stand-in', 'stand-in-attached']);
  });

  it('aborts one caller at once while the start continues for another caller', async () => {
    const { kernel, events } = harness.create();
    const spec = standIn({ flags: ['--ready-after-ms', '3000'] });
    const leaving = new AbortController();
    const first = kernel.ensureInstance(spec, { signal: leaving.signal });
    const second = kernel.ensureInstance(spec);
    await waitUntil(() => eventsOf(events, 'instance.spawned')[0], { message: 'spawn' });
    leaving.abort();
    const error = await rejectionOf(first);
    expect(error.code).toBe('aborted');
    expect(eventsOf(events, 'instance.ready')).toHaveLength(0);
    const { instance } = await second;
    expect(instance.state).toBe('ready');
    expect(eventsOf(events, 'instance.stopped')).toHaveLength(0);
  });

  it('aborts the start and stops the stand-in when every caller aborted', async () => {
    const { kernel, events } = harness.create();
    const spec = standIn({ flags: ['--ready-after-ms', '600000'] });
    const controllers = [new AbortController(), new AbortController()];
    const ensures = controllers.map((c) => kernel.ensureInstance(spec, { signal: c.signal }));
    const spawned = await waitUntil(() => eventsOf(events, 'instance.spawned')[0], { message: 'spawn' });
    controllers[0]!.abort();
    expect((await rejectionOf(ensures[0]!)).code).toBe('aborted');
    expect(isAlive(spawned.pid)).toBe(true);
    controllers[1]!.abort();
    expect((await rejectionOf(ensures[1]!)).code).toBe('aborted');
    await waitUntil(() => eventsOf(events, 'instance.stopped')[0], { message: 'stopped' });
    expect(eventsOf(events, 'instance.stopped')[0]?.reason).toBe('aborted');
    expect(isAlive(spawned.pid)).toBe(false);
  });

  it('gives a joining caller its own readyTimeoutMs without failing the start', async () => {
    const { kernel, events } = harness.create();
    const spec = standIn({ flags: ['--ready-after-ms', '3000'] });
    const starter = kernel.ensureInstance(spec);
    await waitUntil(() => eventsOf(events, 'instance.spawned')[0], { message: 'spawn' });
    const impatient = await rejectionOf(kernel.ensureInstance(spec, { readyTimeoutMs: 100 }));
    expect(impatient.code).toBe('readiness_timeout');
    expect((await starter).instance.state).toBe('ready');
  });

  it('fails with kernel_closed after close', async () => {
    const { kernel } = harness.create();
    await kernel.close();
    expect(() => kernel.listInstances()).toThrow(expect.objectContaining({ code: 'kernel_closed' }));
    expect((await rejectionOf(kernel.ensureInstance(standIn({})))).code).toBe('kernel_closed');
  });
});
