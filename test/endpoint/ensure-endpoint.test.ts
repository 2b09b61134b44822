// Kernel.ensureEndpoint end to end against the spawned stand-in server (a real child process speaking
// HTTP): reuse, context tracing, typed input errors, compatibility before any start, and capacity.
import { afterEach, describe, expect, it } from 'vitest';
import { consumerInput, executionContext, owner, standInRequest } from '../support/consumers.js';
import { eventsOf, isAlive, kernelHarness, rejectionOf, waitUntil } from '../support/lifecycle-harness.js';

const harness = kernelHarness();
afterEach(() => harness.cleanup());

describe('Kernel.ensureEndpoint', () => {
  it('reuses one stand-in instance for the same request and hands out two distinct leases', async () => {
    const { kernel, events } = harness.create();
    const first = await kernel.ensureEndpoint(
      standInRequest({ name: 'reuse' }),
      consumerInput(),
      executionContext(),
      owner('worker-1'),
    );
    const second = await kernel.ensureEndpoint(
      standInRequest({ name: 'reuse' }, { requestId: 'req-2' }),
      consumerInput(),
      executionContext(),
      owner('worker-2'),
    );
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(1);
    expect(second.endpoint.baseUrl).toBe(first.endpoint.baseUrl);
    expect(second.lease.instanceId).toBe(first.lease.instanceId);
    expect(second.lease.leaseRef).not.toBe(first.lease.leaseRef);
    expect(first.endpoint.leaseRef).toBe(first.lease.leaseRef);
    expect(second.endpoint.leaseRef).toBe(second.lease.leaseRef);
    expect(first.compatibility).toMatchObject({
      compatible: true,
      resolvedProtocol: 'openai_chat_completions',
    });
    expect(kernel.listLeases(first.lease.instanceId).map((l) => l.ownerRef)).toEqual([
      'worker-1',
      'worker-2',
    ]);
    expect(kernel.lookupInstance(first.lease.instanceId)?.leaseCount).toBe(2);
    const health = await fetch(first.endpoint.baseUrl.replace(/\/v1$/, '/health'));
    expect(health.status).toBe(200);
  });

  it('starts two stand-in instances for two boot spec names', async () => {
    const { kernel, events } = harness.create();
    const [a, b] = await Promise.all([
      kernel.ensureEndpoint(standInRequest({ name: 'a' }), consumerInput(), executionContext(), owner()),
      kernel.ensureEndpoint(standInRequest({ name: 'b' }), consumerInput(), executionContext(), owner()),
    ]);
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(2);
    expect(a.lease.instanceId).not.toBe(b.lease.instanceId);
    expect(a.endpoint.baseUrl).not.toBe(b.endpoint.baseUrl);
  });

  it('copies the context (requestId, runId, attemptId, boundaryRef, traceId) into the lease, the instance and the descriptor (stand-in)', async () => {
    const { kernel } = harness.create();
    const trace = {
      requestId: 'req-ctx',
      runId: 'run-ctx',
      attemptId: 'attempt-ctx',
      boundaryRef: 'boundary-ctx',
      traceId: 'trace-ctx',
    };
    const { lease, endpoint } = await kernel.ensureEndpoint(
      standInRequest({ name: 'ctx' }, { requestId: trace.requestId }),
      consumerInput(),
      executionContext({
        runId: trace.runId,
        attemptId: trace.attemptId,
        boundaryRef: trace.boundaryRef,
        observability: { traceId: trace.traceId },
      }),
      owner('worker-ctx', { metadata: { purpose: 'eval' } }),
    );
    expect(lease.metadata).toEqual({ purpose: 'eval', ...trace });
    expect(kernel.lookupLease(lease.leaseRef)?.metadata).toEqual(lease.metadata);
    expect(kernel.lookupInstance(lease.instanceId)?.metadata).toMatchObject(trace);
    expect(endpoint.boundaryRef).toBe(trace.boundaryRef);
  });

  it('rejects bad request, consumer, context and options with typed errors naming the field, starting nothing (stand-in)', async () => {
    const { kernel, spawned, events } = harness.create();
    const cases = [
      {
        call: () =>
          kernel.ensureEndpoint(
            { ...standInRequest(), requestId: '' },
            consumerInput(),
            executionContext(),
            owner(),
          ),
        code: 'invalid_request',
        path: 'requestId',
      },
      {
        call: () =>
          kernel.ensureEndpoint(
            standInRequest(),
            consumerInput({ acceptedProtocols: 'openai' }),
            executionContext(),
            owner(),
          ),
        code: 'invalid_manifest',
        path: 'acceptedProtocols',
      },
      {
        call: () =>
          kernel.ensureEndpoint(
            standInRequest(),
            consumerInput(),
            { ...executionContext(), runId: undefined as unknown as string },
            owner(),
          ),
        code: 'invalid_request',
        path: 'runId',
      },
      {
        call: () =>
          kernel.ensureEndpoint(
            standInRequest(),
            consumerInput(),
            executionContext(),
            owner('w', { ttlMs: -5 }),
          ),
        code: 'invalid_request',
        path: 'ttlMs',
      },
      {
        call: () =>
          kernel.ensureEndpoint(standInRequest(), consumerInput(), executionContext(), { ownerRef: '' }),
        code: 'invalid_request',
        path: 'ownerRef',
      },
    ];
    for (const { call, code, path } of cases) {
      const error = await rejectionOf(call());
      expect(error.code, path).toBe(code);
      const issues = (error.details as { issues: Array<{ path: string }> }).issues;
      expect(issues.map((i) => i.path)).toContain(path);
      expect(error.message).toContain(path);
    }
    expect(spawned.stats.plans).toBe(0);
    expect(eventsOf(events, 'instance.starting')).toEqual([]);
  });

  it('names the known backends for an unknown backend, starting nothing', async () => {
    const { kernel, spawned, events } = harness.create();
    const error = await rejectionOf(
      kernel.ensureEndpoint(
        { requestId: 'r', targetPreference: { backend: 'no-such-backend' } },
        consumerInput(),
        executionContext(),
        owner(),
      ),
    );
    expect(error.code).toBe('unknown_backend');
    expect(error.knownBackends).toEqual(['stand-in', 'stand-in-attached']);
    expect(error.message).toContain('stand-in, stand-in-attached');
    expect(spawned.stats.plans).toBe(0);
    expect(eventsOf(events, 'instance.starting')).toEqual([]);
  });

  it('rejects an incompatible consumer with the full compatibility verdict before planning or spawning the stand-in', async () => {
    const { kernel, spawned, events } = harness.create();
    const error = await rejectionOf(
      kernel.ensureEndpoint(
        standInRequest({ name: 'incompatible' }),
        consumerInput({
          acceptedManagementModes: ['externally_managed'],
          acceptedProtocols: ['ollama_native'],
        }),
        executionContext(),
        owner(),
      ),
    );
    expect(error.code).toBe('incompatible');
    const compatibility = error.compatibility as {
      compatible: boolean;
      reason: string;
      metadata: { allFailures: Array<{ reason: string }> };
    };
    expect(compatibility.compatible).toBe(false);
    expect(compatibility.reason).toBe('management_mode_mismatch');
    expect(compatibility.metadata.allFailures.map((f) => f.reason)).toEqual([
      'management_mode_mismatch',
      'unsupported_protocol',
    ]);
    expect(error.message).toContain('ollama_native');
    expect(spawned.stats.plans).toBe(0);
    expect(eventsOf(events, 'instance.starting')).toEqual([]);
    expect(kernel.listInstances()).toEqual([]);
  });

  it('serves 1000 concurrent calls for one stand-in model with one spawn and 1000 distinct leases', async () => {
    const { kernel, events } = harness.create();
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        kernel.ensureEndpoint(
          standInRequest({ name: 'crowd' }, { requestId: `req-${i}` }),
          consumerInput(),
          executionContext(),
          owner(`worker-${i}`),
        ),
      ),
    );
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(1);
    expect(new Set(results.map((r) => r.lease.leaseRef)).size).toBe(1000);
    expect(new Set(results.map((r) => r.lease.instanceId)).size).toBe(1);
    expect(new Set(results.map((r) => r.endpoint.baseUrl)).size).toBe(1);
    expect(kernel.listLeases(results[0]!.lease.instanceId)).toHaveLength(1000);
    expect(eventsOf(events, 'lease.acquired')).toHaveLength(1000);
  });

  it('fails at once with capacity_exhausted when a maxLeases 1 stand-in is taken, and waits for the slot with capacityWaitMs', async () => {
    const { kernel } = harness.create();
    const boot = { name: 'capacity', plan: { maxLeases: 1 } };
    const first = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('a'),
    );
    const refused = await rejectionOf(
      kernel.ensureEndpoint(standInRequest(boot), consumerInput(), executionContext(), owner('b')),
    );
    expect(refused.code).toBe('capacity_exhausted');
    expect(refused.message).toContain('maxLeases is 1');
    expect(kernel.lookupInstance(first.lease.instanceId)?.state).toBe('ready');

    const waiting = kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('c', { capacityWaitMs: 60_000 }),
    );
    await waitUntil(() => kernel.leaseStats().waiting === 1, { message: 'the third caller to queue' });
    expect(kernel.listLeases(first.lease.instanceId).map((l) => l.ownerRef)).toEqual(['a']);
    expect(kernel.releaseLease(first.lease.leaseRef)).toBe(true);
    const granted = await waiting;
    expect(granted.lease.ownerRef).toBe('c');
    expect(granted.lease.instanceId).toBe(first.lease.instanceId);
    expect(kernel.listLeases(first.lease.instanceId).map((l) => l.ownerRef)).toEqual(['c']);
  });

  it('lets an exclusive lease on a stand-in block shared ones until it is released', async () => {
    const { kernel } = harness.create();
    const boot = { name: 'exclusive' };
    const exclusive = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('solo', { exclusive: true }),
    );
    expect(exclusive.lease.exclusive).toBe(true);
    const refused = await rejectionOf(
      kernel.ensureEndpoint(standInRequest(boot), consumerInput(), executionContext(), owner('other')),
    );
    expect(refused.code).toBe('capacity_exhausted');
    expect(refused.message).toContain('exclusive');
    kernel.releaseLease(exclusive.lease.leaseRef);
    const shared = await kernel.ensureEndpoint(
      standInRequest(boot),
      consumerInput(),
      executionContext(),
      owner('other'),
    );
    expect(shared.lease.instanceId).toBe(exclusive.lease.instanceId);
    const refusedExclusive = await rejectionOf(
      kernel.ensureEndpoint(
        standInRequest(boot),
        consumerInput(),
        executionContext(),
        owner('solo', { exclusive: true }),
      ),
    );
    expect(refusedExclusive.code).toBe('capacity_exhausted');
  });

  it('leases and publishes a ready stand-in instance by id (leaseInstance, publishEndpoint)', async () => {
    const { kernel } = harness.create();
    const { instance } = await kernel.ensureInstance({ backend: 'stand-in', bootSpec: { name: 'by-id' } });
    const lease = await kernel.leaseInstance(instance.instanceId, { ownerRef: 'by-id', ttlMs: 30_000 });
    expect(lease).toMatchObject({ instanceId: instance.instanceId, ownerRef: 'by-id', ttlMs: 30_000 });
    const published = kernel.publishEndpoint(instance.instanceId);
    expect(published).toMatchObject({
      baseUrl: instance.endpoint!.baseUrl,
      leaseRef: null,
      boundaryRef: null,
    });
    expect((await rejectionOf(kernel.leaseInstance('nope', { ownerRef: 'x' }))).code).toBe(
      'instance_not_found',
    );
    expect(() => kernel.publishEndpoint('nope')).toThrow(
      expect.objectContaining({ code: 'instance_not_found' }),
    );
    const badTtl = await rejectionOf(kernel.leaseInstance(instance.instanceId, { ownerRef: 'x', ttlMs: 0 }));
    expect(badTtl.code).toBe('invalid_lease_request');
    expect(badTtl.message).toContain('ttlMs');
    expect(kernel.listLeases(instance.instanceId)).toEqual([lease]);

    await kernel.stopInstance(instance.instanceId);
    expect(isAlive(instance.pid!)).toBe(false);
    expect(kernel.lookupLease(lease.leaseRef)).toBeUndefined();
    expect((await rejectionOf(kernel.leaseInstance(instance.instanceId, { ownerRef: 'x' }))).code).toBe(
      'instance_not_found',
    );
  });
});
