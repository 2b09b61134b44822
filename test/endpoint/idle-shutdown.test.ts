// Idle shutdown through the kernel: spawned stand-ins stop after `idleShutdownMs` without leases (also when
// never leased, or when the last lease expires), a lease cancels the idle stop, and an attached stand-in
// daemon is "stopped" only in the kernel's books.
import { afterEach, describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { KernelEvent } from '../../src/telemetry/kernel-events.js';
import {
  attachedStandInRequest,
  consumerInput,
  executionContext,
  owner,
  standInRequest,
} from '../support/consumers.js';
import { eventsOf, isAlive, waitUntil } from '../support/lifecycle-harness.js';
import { endpointHarness } from './endpoint-harness.js';

const harness = endpointHarness();
afterEach(() => harness.cleanup());

function stoppedEvent(events: KernelEvent[], instanceId: string) {
  return waitUntil(() => eventsOf(events, 'instance.stopped', instanceId)[0], {
    message: `instance.stopped for ${instanceId}`,
  });
}

async function pidOf(kernel: Kernel, instanceId: string): Promise<number> {
  return waitUntil(() => kernel.lookupInstance(instanceId)?.pid, { message: 'a pid' });
}

describe('EndpointService idle shutdown', () => {
  it('stops a stand-in idleShutdownMs after its last lease is released', async () => {
    const { kernel, events } = harness.create();
    const boot = { name: 'idle-release', plan: { idleShutdownMs: 300 } };
    const a = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('a'),
    );
    const b = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('b'),
    );
    const id = a.lease.instanceId;
    const pid = await pidOf(kernel, id);
    kernel.releaseLease(a.lease.leaseRef);
    expect(kernel.lookupInstance(id)?.state).toBe('ready'); // one lease still holds it
    kernel.releaseLease(b.lease.leaseRef);
    const stopped = await stoppedEvent(events, id);
    expect(stopped.reason).toBe('idle');
    const released = eventsOf(events, 'lease.released', id).at(-1)!;
    expect(stopped.at).toBeGreaterThanOrEqual(released.at + 300);
    await waitUntil(() => !isAlive(pid), { message: `pid ${pid} gone` });
    expect(kernel.lookupInstance(id)).toBeUndefined();
    // The next call starts a fresh one.
    const again = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('c'),
    );
    expect(again.lease.instanceId).not.toBe(id);
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(2);
  });

  it('stops a ready stand-in that is never leased after idleShutdownMs', async () => {
    const { kernel, events } = harness.create();
    const { instance } = await kernel.ensureInstance({
      backend: 'stand-in',
      bootSpec: { name: 'never-leased', plan: { idleShutdownMs: 200 } },
    });
    const stopped = await stoppedEvent(events, instance.instanceId);
    expect(stopped.reason).toBe('idle');
    await waitUntil(() => !isAlive(instance.pid!), { message: 'the stand-in process to exit' });
    expect(eventsOf(events, 'lease.acquired')).toEqual([]);
  });

  it('stops a stand-in idleShutdownMs after its last lease expires', async () => {
    const { kernel, events } = harness.create();
    const { lease } = await kernel.ensureEndpoint(
      standInRequest({ name: 'idle-expiry', plan: { idleShutdownMs: 100 } }),
      consumerInput(),
      executionContext(),
      owner('w', { ttlMs: 200 }),
    );
    const stopped = await stoppedEvent(events, lease.instanceId);
    expect(stopped.reason).toBe('idle');
    const expired = eventsOf(events, 'lease.expired', lease.instanceId);
    expect(expired).toHaveLength(1);
    expect(stopped.at).toBeGreaterThanOrEqual(expired[0]!.at + 100);
  });

  it('keeps a leased stand-in past the idle deadline it would have had, then idles it out after release', async () => {
    const { kernel, events } = harness.create();
    const plan = { idleShutdownMs: 400 };
    const { instance } = await kernel.ensureInstance({
      backend: 'stand-in',
      bootSpec: { name: 'kept', plan },
    });
    // Leased before its idle deadline: the idle stop is cancelled.
    const lease = await kernel.leaseInstance(instance.instanceId, { ownerRef: 'w' });
    // A sentinel that became ready later, with the same idleShutdownMs and never leased: once it has idled out,
    // the first instance's cancelled deadline has certainly passed.
    const sentinel = await kernel.ensureInstance({
      backend: 'stand-in',
      bootSpec: { name: 'sentinel', plan },
    });
    await stoppedEvent(events, sentinel.instance.instanceId);
    expect(kernel.lookupInstance(instance.instanceId)?.state).toBe('ready');
    expect(isAlive(instance.pid!)).toBe(true);
    expect(eventsOf(events, 'instance.stopped', instance.instanceId)).toEqual([]);

    kernel.releaseLease(lease.leaseRef);
    expect((await stoppedEvent(events, instance.instanceId)).reason).toBe('idle');
  });

  it('never idles out a stand-in whose plan has idleShutdownMs null', async () => {
    const { kernel, events } = harness.create();
    const { instance } = await kernel.ensureInstance({
      backend: 'stand-in',
      bootSpec: { name: 'forever', plan: { idleShutdownMs: null } },
    });
    const sentinel = await kernel.ensureInstance({
      backend: 'stand-in',
      bootSpec: { name: 'sentinel-null', plan: { idleShutdownMs: 200 } },
    });
    await stoppedEvent(events, sentinel.instance.instanceId);
    expect(kernel.lookupInstance(instance.instanceId)?.state).toBe('ready');
  });

  it('"stops" an idle attached instance only in the kernel books; the stand-in daemon keeps running', async () => {
    const daemon = await harness.daemon();
    const { kernel, events } = harness.create();
    const { lease, endpoint } = await kernel.ensureEndpoint(
      attachedStandInRequest(daemon.url, { name: 'attached-idle', plan: { idleShutdownMs: 200 } }),
      consumerInput(),
      executionContext(),
      owner('w'),
    );
    expect(endpoint).toMatchObject({ baseUrl: `${daemon.url}/v1`, managementMode: 'externally_managed' });
    kernel.releaseLease(lease.leaseRef);
    const stopped = await stoppedEvent(events, lease.instanceId);
    expect(stopped.reason).toBe('idle');
    expect(kernel.lookupInstance(lease.instanceId)).toBeUndefined();
    expect(isAlive(daemon.pid)).toBe(true);
    expect((await fetch(`${daemon.url}/health`)).status).toBe(200);
    // Attaching again works against the same daemon.
    const again = await kernel.ensureEndpoint(
      attachedStandInRequest(daemon.url, { name: 'attached-idle', plan: { idleShutdownMs: 200 } }),
      consumerInput(),
      executionContext(),
      owner('w'),
    );
    expect(again.endpoint.baseUrl).toBe(`${daemon.url}/v1`);
  });
});
