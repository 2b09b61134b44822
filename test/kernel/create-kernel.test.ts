import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConsumerManifestInput } from '../../src/contracts/consumer-manifest.js';
import { createKernel } from '../../src/kernel/create-kernel.js';
import { defaultStateDir } from '../../src/kernel/kernel-options.js';
import { readProcessStartTime } from '../../src/process/proc-info.js';
import { ProcessRecords } from '../../src/process/process-records.js';
import { eventsOf, isAlive, kernelHarness, rejectionOf, waitUntil } from '../support/lifecycle-harness.js';
import { createStandInBackend, STAND_IN_SERVER } from '../support/stand-in-backend.js';

const harness = kernelHarness();
afterEach(() => harness.cleanup());

const consumer: ConsumerManifestInput = {
  consumer: 'test-consumer',
  acceptedRuntimeKinds: ['service'],
  acceptedManagementModes: ['kernel_managed'],
  acceptedProtocols: ['openai_chat_completions'],
  requiredCapabilities: { streaming: true },
};

function activeResources(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
}

describe('createKernel', () => {
  it('registers the given backends and answers registry and compatibility questions', async () => {
    const { kernel } = harness.create();
    expect(kernel.listBackends()).toEqual(['stand-in', 'stand-in-attached']);
    expect(kernel.getBackendManifest('stand-in').startupKind).toBe('spawned');
    expect(kernel.compatibility('stand-in', consumer)).toMatchObject({
      compatible: true,
      reason: 'protocol_match',
    });
    expect(kernel.compatibility('stand-in-attached', consumer)).toMatchObject({
      compatible: false,
      reason: 'management_mode_mismatch',
    });
    expect(() => kernel.getBackendManifest('nope')).toThrow(
      expect.objectContaining({ code: 'unknown_backend' }),
    );
    expect(() => kernel.registerBackend(createStandInBackend())).toThrow(
      expect.objectContaining({ code: 'duplicate_backend' }),
    );
    kernel.registerBackend(createStandInBackend(), { replace: true });
    expect(kernel.unregisterBackend('stand-in-attached')).toBe(true);
    expect(kernel.listBackends()).toEqual(['stand-in']);
  });

  it('defaults stateDir to the one per-user directory shic uses too', () => {
    expect(defaultStateDir({ SHIC_STATE_DIR: '/x/mine', XDG_STATE_HOME: '/x/state' })).toBe('/x/mine');
    expect(defaultStateDir({ XDG_STATE_HOME: '/x/state' })).toBe('/x/state/shic');
    expect(defaultStateDir({})).toBe(`${os.homedir()}/.local/state/shic`);
  });

  it('stops every spawned stand-in on close, is idempotent, and refuses work afterwards', async () => {
    const { kernel, events } = harness.create();
    const [a, b] = await Promise.all([
      kernel.ensureInstance({ backend: 'stand-in', bootSpec: { name: 'a' } }),
      kernel.ensureInstance({ backend: 'stand-in', bootSpec: { name: 'b' } }),
    ]);
    const closing = kernel.close();
    expect(kernel.close()).toBe(closing);
    await closing;
    expect(isAlive(a.instance.pid!)).toBe(false);
    expect(isAlive(b.instance.pid!)).toBe(false);
    expect(eventsOf(events, 'instance.stopped').map((e) => e.reason)).toEqual(['close', 'close']);
    expect(() => kernel.on('instance.ready', () => {})).toThrow(
      expect.objectContaining({ code: 'kernel_closed' }),
    );
    expect((await rejectionOf(kernel.stopInstance(a.instance.instanceId))).code).toBe('kernel_closed');
  });

  it('leaves no handles or exit listeners behind after close', async () => {
    const baseline = activeResources().length;
    const exitListeners = process.listenerCount('exit');
    const { kernel } = harness.create();
    const { instance } = await kernel.ensureInstance({ backend: 'stand-in', bootSpec: { name: 'handles' } });
    expect(process.listenerCount('exit')).toBeGreaterThan(0);
    await waitUntil(() => kernel.lookupInstance(instance.instanceId)?.health === 'healthy');
    await kernel.close();
    await waitUntil(() => process.listenerCount('exit') <= exitListeners, {
      message: 'exit listeners released',
    });
    await waitUntil(() => activeResources().length <= baseline, {
      message: `active resources back to baseline (${baseline}): ${activeResources().join(', ')}`,
    });
  });

  it('reaps a recorded stand-in left behind by a dead kernel at creation', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'shic-reap-'));
    const orphan = execa(process.execPath, [STAND_IN_SERVER, '--port', '0'], {
      detached: true,
      reject: false,
    });
    try {
      await new Promise<void>((resolve) => orphan.stdout?.once('data', () => resolve()));
      const deadKernel = await execa(process.execPath, ['-e', 'console.log(process.pid)']);
      new ProcessRecords(stateDir).record({
        pid: orphan.pid!,
        pgid: orphan.pid!,
        startTime: readProcessStartTime(orphan.pid!)!,
        command: process.execPath,
        args: [STAND_IN_SERVER, '--port', '0'],
        instanceId: 'stand-in-orphan',
        kernelPid: Number(deadKernel.stdout),
        kernelStartTime: 1,
      });
      const kernel = createKernel({ stateDir, backends: [createStandInBackend()] });
      try {
        // Every ensure waits for the reaping that began at creation.
        await kernel.ensureInstance({ backend: 'stand-in', bootSpec: { name: 'after-reap' } });
        expect(isAlive(orphan.pid!)).toBe(false);
        expect((await orphan).stdout).toContain('received SIGTERM');
        expect(new ProcessRecords(stateDir).list().map((r) => r.pid)).not.toContain(orphan.pid);
      } finally {
        await kernel.close();
      }
    } finally {
      orphan.kill('SIGKILL');
      await orphan;
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
