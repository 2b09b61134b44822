// targetPreference.policy end to end against the spawned stand-in server (a real child process speaking HTTP):
// the stand-in's plans say unlimited leases and no idle shutdown, and the request's policy overrides both.
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointRequestInput } from '../../src/contracts/endpoint-request.js';
import type { PlanPolicyInput } from '../../src/contracts/plan-policy.js';
import { consumerInput, executionContext, owner, standInRequest } from '../support/consumers.js';
import { eventsOf, isAlive, rejectionOf, waitUntil } from '../support/lifecycle-harness.js';
import { endpointHarness } from './endpoint-harness.js';

const harness = endpointHarness();
afterEach(() => harness.cleanup());

function withPolicy(name: string, policy: PlanPolicyInput | Record<string, unknown>): EndpointRequestInput {
  const request = standInRequest({ name });
  return { ...request, targetPreference: { ...request.targetPreference, policy } as never };
}

describe('EndpointService plan policy overrides', () => {
  it('applies targetPreference.policy maxLeases 1 and idleShutdownMs 300 over a stand-in plan that has neither', async () => {
    const { kernel, events } = harness.create();
    const request = withPolicy('policed', { maxLeases: 1, idleShutdownMs: 300 });
    const first = await kernel.ensureEndpoint(request, consumerInput(), executionContext(), owner('a'));
    const id = first.lease.instanceId;
    const refused = await rejectionOf(
      kernel.ensureEndpoint(request, consumerInput(), executionContext(), owner('b')),
    );
    expect(refused.code).toBe('capacity_exhausted');
    expect(refused.message).toContain('maxLeases is 1');

    const pid = await waitUntil(() => kernel.lookupInstance(id)?.pid, { message: 'a pid' });
    kernel.releaseLease(first.lease.leaseRef);
    const stopped = await waitUntil(() => eventsOf(events, 'instance.stopped', id)[0], {
      message: `instance.stopped for ${id}`,
    });
    expect(stopped.reason).toBe('idle');
    const released = eventsOf(events, 'lease.released', id).at(-1)!;
    expect(stopped.at).toBeGreaterThanOrEqual(released.at + 300);
    await waitUntil(() => !isAlive(pid), { message: `pid ${pid} gone` });
  });

  it('keeps the policy of the call that started the instance when a later call with the same key asks for another', async () => {
    const { kernel, events } = harness.create();
    const first = await kernel.ensureEndpoint(
      withPolicy('first-wins', { maxLeases: 1 }),
      consumerInput(),
      executionContext(),
      owner('a'),
    );
    const refused = await rejectionOf(
      kernel.ensureEndpoint(
        withPolicy('first-wins', { maxLeases: 5 }),
        consumerInput(),
        executionContext(),
        owner('b'),
      ),
    );
    expect(refused.code).toBe('capacity_exhausted');
    expect(refused.instanceId).toBe(first.lease.instanceId);
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(1);
  });

  it('rejects an invalid policy with invalid_request naming targetPreference.policy.<field>, planning and spawning nothing', async () => {
    const { kernel, spawned, events } = harness.create();
    const cases = [
      { policy: { maxLeases: 0 }, path: 'targetPreference.policy.maxLeases' },
      { policy: { idleShutdownMs: -1 }, path: 'targetPreference.policy.idleShutdownMs' },
      { policy: { restartPolicy: { mode: 'always' } }, path: 'targetPreference.policy.restartPolicy.mode' },
      { policy: { portRetries: 1 }, path: 'targetPreference.policy.portRetries' },
    ];
    for (const { policy, path } of cases) {
      const error = await rejectionOf(
        kernel.ensureEndpoint(withPolicy('bad', policy), consumerInput(), executionContext(), owner()),
      );
      expect(error.code, path).toBe('invalid_request');
      const issues = (error.details as { issues: Array<{ path: string }> }).issues;
      expect(issues.map((i) => i.path)).toEqual([path]);
      expect(error.message).toContain(path);
    }
    expect(spawned.stats.plans).toBe(0);
    expect(eventsOf(events, 'instance.starting')).toEqual([]);
  });
});
