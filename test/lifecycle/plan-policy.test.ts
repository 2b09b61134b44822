// spec.policy through Kernel.ensureInstance with the spawned stand-in server (a real child process that
// crashes on cue): the stand-in's own plans restart on failure (3 restarts, 20 ms backoff base).
import { afterEach, describe, expect, it } from 'vitest';
import { eventsOf, isAlive, kernelHarness, rejectionOf, waitUntil } from '../support/lifecycle-harness.js';

const harness = kernelHarness();
afterEach(() => harness.cleanup());

describe('InstanceManager plan policy', () => {
  it('fails a crashed stand-in at once when the policy says restartPolicy mode never', async () => {
    const { kernel, events } = harness.create();
    const { instance } = await kernel.ensureInstance({
      backend: 'stand-in',
      bootSpec: { name: 'never', flags: ['--crash-after-ms', '50'] },
      policy: { restartPolicy: { mode: 'never' } },
    });
    const failed = await waitUntil(() => eventsOf(events, 'instance.failed', instance.instanceId)[0], {
      message: 'instance.failed',
    });
    expect(failed.error.code).toBe('process_exited');
    expect(eventsOf(events, 'instance.restarting')).toEqual([]);
    expect(kernel.lookupInstance(instance.instanceId)?.state).toBe('failed');
    expect(isAlive(instance.pid!)).toBe(false);
  });

  it('merges the restart policy field by field: maxRestarts 1 with the backend’s 20 ms backoff, kept across restarts', async () => {
    const { kernel, events } = harness.create();
    const { instance } = await kernel.ensureInstance({
      backend: 'stand-in',
      bootSpec: { name: 'one-restart', flags: ['--crash-after-ms', '50'] },
      policy: { restartPolicy: { maxRestarts: 1 } },
    });
    const failed = await waitUntil(() => eventsOf(events, 'instance.failed', instance.instanceId)[0], {
      message: 'instance.failed',
    });
    expect(failed.error.code).toBe('crash_loop');
    const restarts = eventsOf(events, 'instance.restarting', instance.instanceId);
    expect(restarts).toHaveLength(1);
    // The stand-in's backoffBaseMs (20) survived the override (the kernel default would be 250).
    expect(restarts[0]!.delayMs).toBeLessThanOrEqual(20);
    for (const spawned of eventsOf(events, 'instance.spawned')) expect(isAlive(spawned.pid)).toBe(false);
  });

  it('rejects a bad policy with invalid_request naming policy.<field> before anything is planned', async () => {
    const { kernel, spawned, events } = harness.create();
    const error = await rejectionOf(
      kernel.ensureInstance({ backend: 'stand-in', policy: { healthFailureThreshold: 0 } }),
    );
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('policy.healthFailureThreshold');
    expect(spawned.stats.plans).toBe(0);
    expect(eventsOf(events, 'instance.starting')).toEqual([]);
  });
});
