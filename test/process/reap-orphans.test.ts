import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createOwnerMarker, OWNER_ENV } from '../../src/process/owner-marker.js';
import { readProcessStartTime } from '../../src/process/proc-info.js';
import { ProcessRecords } from '../../src/process/process-records.js';
import { reapOrphans } from '../../src/process/reap-orphans.js';
import { alive, childrenOf, killGroupQuietly, waitUntil } from './process-test-helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'reap-orphans-'));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The owner marker of a kernel that has exited (a real pid and start time, no longer running). */
// A stand-in kernel that stays alive until `die()`: reaping is machine-wide, so a marker of an already dead
// kernel would let any kernel starting elsewhere (another test file) take the processes before the test looks.
function dyingKernel(): { marker: string; die(): Promise<void> } {
  const kernel = execa(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { reject: false });
  return {
    marker: `${kernel.pid}:${readProcessStartTime(kernel.pid!)!}:dying`,
    async die() {
      kernel.kill('SIGKILL');
      await kernel;
    },
  };
}

/** A detached process (own group) started with `env`; `script` runs under node. Killed after the test. */
function detached(env: Record<string, string>, script = 'setInterval(() => {}, 1000)'): number {
  const child = execa(process.execPath, ['-e', script], { detached: true, reject: false, env });
  cleanups.push(async () => {
    killGroupQuietly(child.pid);
    await child;
  });
  return child.pid!;
}

describe('reapOrphans', () => {
  it('kills processes whose marker names a dead kernel, and never one of a live kernel or without a marker', async () => {
    const kernel = dyingKernel();
    const dead = kernel.marker;
    const orphan = detached({ [OWNER_ENV]: dead });
    const ofLiveKernel = detached({ [OWNER_ENV]: createOwnerMarker('live') });
    const unmarked = detached({});
    const malformed = detached({ [OWNER_ENV]: 'not-a-marker' });
    await waitUntil(() => [orphan, ofLiveKernel, unmarked, malformed].every(alive), 10_000, 'all started');
    await kernel.die();
    const killed = await reapOrphans({ graceMs: 2000 });
    // Another kernel starting elsewhere may reap the orphan first; either way it must be gone.
    await waitUntil(() => !alive(orphan), 10_000, 'the orphan gone');
    expect(killed).not.toContain(ofLiveKernel);
    expect(killed).not.toContain(unmarked);
    expect(killed).not.toContain(malformed);
    expect([ofLiveKernel, unmarked, malformed].every(alive)).toBe(true);
  });

  it('kills the whole group of a marked leader, and only the marked member of an unmarked group', async () => {
    const kernel = dyingKernel();
    const dead = kernel.marker;
    // A marked leader whose unmarked child stays in its group (it cleared its environment).
    const spawnChild = (env: string) =>
      `require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { env: ${env}, stdio: 'ignore' }); setInterval(() => {}, 1000)`;
    const leader = detached({ [OWNER_ENV]: dead }, spawnChild('{}'));
    // An unmarked leader with a marked child in its group: only the child is an orphan.
    const bystander = detached({}, spawnChild(`{ ${OWNER_ENV}: ${JSON.stringify(dead)} }`));
    const [leaderChild] = await waitUntil(
      () => (childrenOf(leader).length ? childrenOf(leader) : null),
      10_000,
      'child of the marked leader',
    );
    const [markedChild] = await waitUntil(
      () => (childrenOf(bystander).length ? childrenOf(bystander) : null),
      10_000,
      'marked child',
    );
    await kernel.die();
    await reapOrphans({ graceMs: 2000 });
    await waitUntil(() => ![leader, leaderChild!, markedChild!].some(alive), 10_000, 'orphans gone');
    expect(alive(bystander)).toBe(true);
  });
});

describe('ProcessRecords.reapStale owner scan', () => {
  it('also kills unrecorded orphans of a dead kernel, unless scanOwners is false', async () => {
    const kernel = dyingKernel();
    const orphan = detached({ [OWNER_ENV]: kernel.marker });
    const records = new ProcessRecords(path.join(tmp, 'state'));
    await waitUntil(() => alive(orphan), 10_000, 'orphan started');
    await kernel.die();
    // Records only: nothing recorded, nothing killed (whatever other kernels starting meanwhile do).
    expect(await records.reapStale(undefined, { scanOwners: false })).toEqual({ killed: [], skipped: [] });
    const { skipped } = await records.reapStale(undefined, { graceMs: 2000 });
    expect(skipped).toEqual([]);
    await waitUntil(() => !alive(orphan), 10_000, 'the unrecorded orphan gone');
  });
});
