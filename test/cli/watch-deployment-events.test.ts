import { describe, expect, it } from 'vitest';
import type { DeploymentProgress, DeploymentStatus } from '../../src/cli/render/deployment-progress.js';
import { watchDeploymentEvents } from '../../src/cli/render/watch-deployment-events.js';
import type { ControlKernel } from '../../src/control/control-kernel.js';
import type { KernelEvent } from '../../src/telemetry/kernel-events.js';

const MiB = 1024 * 1024;

describe('watchDeploymentEvents', () => {
  it("shows residency's decisions on the deployments' progress lines, naming holders by deployment", () => {
    let listener: (event: KernelEvent) => void = () => {};
    const deployments: Record<string, string> = { 'i-a': 'chat-a', 'i-b': 'chat-b', 'i-c': 'chat-c' };
    const kernel = {
      on: (_name: string, fn: (event: KernelEvent) => void) => {
        listener = fn;
        return () => {};
      },
      lookupInstance: (id: string) => ({ metadata: { deployment: deployments[id] } }),
    } as unknown as ControlKernel;
    const updates: Array<[string, DeploymentStatus]> = [];
    const progress = { update: (name: string, status: DeploymentStatus) => updates.push([name, status]) };
    watchDeploymentEvents(kernel, progress as unknown as DeploymentProgress);
    const base = { instanceKey: 'k', backend: 'llama-cpp', at: 0 };
    listener({
      type: 'residency.queued',
      instanceId: 'i-c',
      ...base,
      bytes: { system: 18 * MiB },
      position: 1,
      blocking: [
        { instanceId: 'i-a', backend: 'llama-cpp', bytes: { system: 18 * MiB }, reason: 'leased' },
        { instanceId: 'i-b', backend: 'llama-cpp', bytes: { system: 18 * MiB }, reason: 'leased' },
      ],
    });
    listener({
      type: 'residency.evicting',
      instanceId: 'i-a',
      ...base,
      reason: 'memory',
      bytes: { system: 18 * MiB },
      forInstanceId: 'i-c',
      forBackend: 'llama-cpp',
      idleMs: 1500,
    });
    expect(updates).toEqual([
      [
        'chat-c',
        {
          phase: 'waiting for memory',
          detail: 'needs 18 MiB, queue position 1; held by chat-a (leased), chat-b (leased)',
        },
      ],
      ['chat-a', { phase: 'evicted', detail: expect.stringMatching(/18 MiB freed for chat-c$/), done: 'ok' }],
    ]);
  });
});
