import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { OrphanWatchdog } from '../../src/process/orphan-watchdog.js';
import {
  createOwnerMarker,
  findOwnedProcesses,
  isOwnerAlive,
  OWNER_ENV,
  parseOwnerMarker,
} from '../../src/process/owner-marker.js';
import { readProcessStartTime } from '../../src/process/proc-info.js';
import { spawnProcess } from '../../src/process/spawn-process.js';
import { killGroupQuietly, standInServer, waitUntil } from './process-test-helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The SHIC_OWNER value a process was started with, read from /proc independently of the code under test. */
function environMarker(pid: number): string | undefined {
  return readFileSync(`/proc/${pid}/environ`, 'latin1')
    .split('\0')
    .find((e) => e.startsWith(`${OWNER_ENV}=`))
    ?.slice(OWNER_ENV.length + 1);
}

/** A detached sleeper (own group) started with `env`; killed after the test. */
function sleeper(env: Record<string, string>): number {
  const child = execa(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    detached: true,
    reject: false,
    env,
  });
  cleanups.push(async () => {
    killGroupQuietly(child.pid);
    await child;
  });
  return child.pid!;
}

describe('parseOwnerMarker', () => {
  it('reads back what createOwnerMarker wrote for this process', () => {
    const owner = parseOwnerMarker(createOwnerMarker('t1'));
    expect(owner).toEqual({
      kernelPid: process.pid,
      kernelStartTime: readProcessStartTime(process.pid),
      tag: 't1',
    });
    expect(isOwnerAlive(owner!)).toBe(true);
  });

  it.each(['', 'x:1', '12', '0:5:t', '12:abc', '12:5:bad tag', '-3:5'])('rejects %j', (value) => {
    expect(parseOwnerMarker(value)).toBeNull();
  });

  it('calls an owner dead when its pid runs with another start time, and alive when the start time is unknown', () => {
    expect(isOwnerAlive({ kernelPid: process.pid, kernelStartTime: 1_000, tag: '' })).toBe(false);
    expect(isOwnerAlive({ kernelPid: process.pid, kernelStartTime: 0, tag: '' })).toBe(true);
  });
});

describe('findOwnedProcesses', () => {
  it('lists running processes by the marker in their environment, with group and start time', () => {
    const marker = createOwnerMarker('find');
    const marked = sleeper({ [OWNER_ENV]: marker });
    const unmarked = sleeper({});
    const found = findOwnedProcesses((m) => m === marker);
    expect(found).toEqual([
      {
        pid: marked,
        pgid: marked,
        startTime: readProcessStartTime(marked),
        marker,
        owner: parseOwnerMarker(marker),
      },
    ]);
    expect(findOwnedProcesses().some((p) => p.pid === unmarked)).toBe(false);
  });

  it.runIf(
    (() => {
      try {
        readFileSync('/proc/1/environ');
        return false;
      } catch {
        return true;
      }
    })(),
  )('skips processes whose environment it may not read (pid 1 here) instead of failing', () => {
    expect(() => findOwnedProcesses()).not.toThrow();
    expect(findOwnedProcesses().some((p) => p.pid === 1)).toBe(false);
  });
});

describe('spawnProcess owner marker', () => {
  it("puts the watchdog's marker in the child's environment, inherited by its grandchildren", async () => {
    const watchdog = new OrphanWatchdog({ graceMs: 300 });
    cleanups.push(() => watchdog.close());
    const proc = await spawnProcess({
      command: process.execPath,
      args: [standInServer, '--port', '0', '--fork-grandchild'],
      env: { [OWNER_ENV]: '1:1:forged' },
      watchdog,
    });
    cleanups.push(() => proc.kill());
    const line = await waitUntil(
      () => proc.logRing.lines().find((l) => l.startsWith('grandchild pid=')),
      15_000,
      'the grandchild pid',
    );
    const grandchild = Number(line.slice('grandchild pid='.length));
    expect(environMarker(proc.pid)).toBe(watchdog.ownerMarker);
    expect(environMarker(grandchild)).toBe(watchdog.ownerMarker);
    expect(watchdog.ownerMarker.startsWith(`${process.pid}:${readProcessStartTime(process.pid)}:`)).toBe(
      true,
    );
  });

  it('marks a child spawned without a watchdog as owned by this process', async () => {
    const proc = await spawnProcess({
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
    });
    cleanups.push(() => proc.kill());
    const owner = parseOwnerMarker(environMarker(proc.pid) ?? '');
    expect(owner).toMatchObject({
      kernelPid: process.pid,
      kernelStartTime: readProcessStartTime(process.pid),
    });
  });
});
