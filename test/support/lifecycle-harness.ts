// Shared helpers for lifecycle and kernel tests: a kernel per test with the stand-in backends, an event
// recorder, condition polling (re-exported from wait-until.ts), and /proc liveness checks.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKernel } from '../../src/kernel/create-kernel.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { KernelEvent, KernelEventName } from '../../src/telemetry/kernel-events.js';
import { createStandInBackend } from './stand-in-backend.js';

export { waitUntil } from './wait-until.js';

/** True while `pid` runs (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    const text = readFileSync(stat, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every event a kernel emits, in order. */
export function recordEvents(kernel: Kernel): KernelEvent[] {
  const events: KernelEvent[] = [];
  kernel.on('*', (event) => events.push(event));
  return events;
}

/** Events of one type (optionally for one instance). */
export function eventsOf<K extends KernelEventName>(
  events: KernelEvent[],
  type: K,
  instanceId?: string,
): Array<Extract<KernelEvent, { type: K }>> {
  return events.filter(
    (e): e is Extract<KernelEvent, { type: K }> =>
      e.type === type && (instanceId === undefined || ('instanceId' in e && e.instanceId === instanceId)),
  );
}

/** Kernels (with a spawned and an attached stand-in backend) that `cleanup()` closes, plus a temp stateDir. */
export function kernelHarness() {
  const kernels: Kernel[] = [];
  const dirs: string[] = [];
  return {
    create() {
      const stateDir = mkdtempSync(path.join(os.tmpdir(), 'shic-lifecycle-'));
      dirs.push(stateDir);
      const spawned = createStandInBackend();
      const attached = createStandInBackend({ kind: 'attached' });
      const kernel = createKernel({ stateDir, backends: [spawned, attached] });
      kernels.push(kernel);
      const events = recordEvents(kernel);
      return { kernel, spawned, attached, events, stateDir };
    },
    async cleanup() {
      await Promise.all(kernels.splice(0).map((k) => k.close()));
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Rejection of a promise, for asserting on typed errors (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Record<string, unknown> & Error> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown> & Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
