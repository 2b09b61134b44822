// Cancellation of ensureEndpoint with a slow-starting stand-in (`--ready-after-ms 2000`):
// the only caller aborting stops the start; with another caller waiting the start continues for it.
import { afterEach, describe, expect, it } from 'vitest';
import { consumerInput, executionContext, owner, standInRequest } from '../support/consumers.js';
import { eventsOf, isAlive, rejectionOf, waitUntil } from '../support/lifecycle-harness.js';
import { endpointHarness } from './endpoint-harness.js';

const harness = endpointHarness();
afterEach(() => harness.cleanup());

const slow = (name: string) => standInRequest({ name, flags: ['--ready-after-ms', '2000'] });

describe('Kernel.ensureEndpoint abort', () => {
  it('stops a starting stand-in when its only caller aborts, leaving no process', async () => {
    const { kernel, events } = harness.create();
    const controller = new AbortController();
    const call = kernel.ensureEndpoint(
      slow('abort-alone'),
      consumerInput(),
      executionContext(),
      owner('w', { signal: controller.signal }),
    );
    const [spawned] = await waitUntil(
      () => {
        const seen = eventsOf(events, 'instance.spawned');
        return seen.length ? seen : undefined;
      },
      { message: 'the stand-in to spawn' },
    );
    controller.abort();
    const error = await rejectionOf(call);
    expect(error.code).toBe('aborted');
    const stopped = await waitUntil(() => eventsOf(events, 'instance.stopped', spawned!.instanceId)[0], {
      message: 'the start to be stopped',
    });
    expect(stopped.reason).toBe('aborted');
    await waitUntil(() => !isAlive(spawned!.pid), { message: 'the stand-in process to exit' });
    expect(eventsOf(events, 'instance.ready')).toEqual([]);
    expect(eventsOf(events, 'lease.acquired')).toEqual([]);
    expect(kernel.listInstances()).toEqual([]);
  });

  it('keeps starting a stand-in for the caller still waiting when another caller aborts', async () => {
    const { kernel, spawned, events } = harness.create();
    // Counts finished plans: a caller whose plan is done has joined the start in the same microtask run.
    const plan = spawned.startupPlan.bind(spawned);
    let planned = 0;
    spawned.startupPlan = async (spec, context) => {
      const result = await plan(spec, context);
      planned += 1;
      return result;
    };
    const controller = new AbortController();
    const aborted = kernel.ensureEndpoint(
      slow('abort-shared'),
      consumerInput(),
      executionContext(),
      owner('quitter', { signal: controller.signal }),
    );
    const patient = kernel.ensureEndpoint(
      slow('abort-shared'),
      consumerInput(),
      executionContext(),
      owner('patient'),
    );
    await waitUntil(() => planned === 2 && eventsOf(events, 'instance.spawned').length === 1, {
      message: 'both callers waiting on one spawned stand-in',
    });
    expect(kernel.lookupInstance(eventsOf(events, 'instance.spawned')[0]!.instanceId)?.state).toBe(
      'starting',
    );
    controller.abort();
    expect((await rejectionOf(aborted)).code).toBe('aborted');
    const { lease, endpoint } = await patient;
    expect(lease.ownerRef).toBe('patient');
    expect(endpoint.leaseRef).toBe(lease.leaseRef);
    const snapshot = kernel.lookupInstance(lease.instanceId)!;
    expect(snapshot.state).toBe('ready');
    expect(isAlive(snapshot.pid!)).toBe(true);
    expect(kernel.listLeases(lease.instanceId).map((l) => l.ownerRef)).toEqual(['patient']);
    expect(eventsOf(events, 'instance.stopped')).toEqual([]);
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(1);
  });

  it('rejects an already aborted call before planning or spawning anything (stand-in)', async () => {
    const { kernel, spawned, events } = harness.create();
    const error = await rejectionOf(
      kernel.ensureEndpoint(
        slow('pre-aborted'),
        consumerInput(),
        executionContext(),
        owner('w', { signal: AbortSignal.abort() }),
      ),
    );
    expect(error.code).toBe('aborted');
    expect(spawned.stats.plans).toBe(0);
    expect(eventsOf(events, 'instance.starting')).toEqual([]);
  });

  it('aborts a caller waiting for a lease slot on a full stand-in and leaves the instance to its holder', async () => {
    const { kernel } = harness.create();
    const boot = { name: 'abort-capacity', plan: { maxLeases: 1 } };
    const holder = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('holder'),
    );
    const controller = new AbortController();
    const waiting = kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('waiter', { capacityWaitMs: 60_000, signal: controller.signal }),
    );
    await waitUntil(() => kernel.leaseStats().waiting === 1, { message: 'the waiter to queue' });
    controller.abort();
    expect((await rejectionOf(waiting)).code).toBe('aborted');
    expect(kernel.leaseStats().waiting).toBe(0);
    expect(kernel.lookupInstance(holder.lease.instanceId)).toMatchObject({ state: 'ready', leaseCount: 1 });
  });
});
