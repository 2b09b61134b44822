import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OrphanWatchdog } from '../../src/process/orphan-watchdog.js';
import { OWNER_ENV } from '../../src/process/owner-marker.js';
import { readProcessStartTime } from '../../src/process/proc-info.js';
import { type ManagedProcess, spawnProcess } from '../../src/process/spawn-process.js';
import { runKernelChild } from './kernel-child-runner.js';
import { alive, killGroupQuietly, killQuietly, standInServer, waitUntil } from './process-test-helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'orphan-watchdog-'));
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function standIn(watchdog: OrphanWatchdog): Promise<ManagedProcess> {
  const proc = await spawnProcess({
    command: process.execPath,
    args: [standInServer, '--port', '0'],
    watchdog,
  });
  cleanups.push(async () => {
    killGroupQuietly(proc.pgid);
    await proc.exited;
  });
  await waitUntil(() => proc.logRing.lines().includes('ready'), 15_000, 'stand-in ready');
  return proc;
}

function newWatchdog(graceMs = 500): OrphanWatchdog {
  const watchdog = new OrphanWatchdog({ graceMs });
  cleanups.push(() => watchdog.close());
  return watchdog;
}

describe('OrphanWatchdog', () => {
  it('kills both stand-in servers and their grandchildren when the kernel process is SIGKILLed', async () => {
    const kernel = await runKernelChild(path.join(tmp, 'sigkill'));
    const { pids, grandchildren, watchdogPid, kernelPid } = kernel.info;
    cleanups.push(() => {
      for (const pid of [...pids, kernelPid, watchdogPid ?? undefined]) killGroupQuietly(pid);
      for (const pid of grandchildren) killQuietly(pid);
    });
    expect(pids).toHaveLength(2);
    expect([...pids, ...grandchildren].every(alive)).toBe(true);
    process.kill(kernelPid, 'SIGKILL');
    await kernel.done;
    await waitUntil(() => ![...pids, ...grandchildren].some(alive), 15_000, 'stand-in servers gone');
    await waitUntil(() => !alive(watchdogPid!), 10_000, 'watchdog exited');
  });

  it('does not keep the event loop of an idle kernel alive', async () => {
    const script = path.join(import.meta.dirname, 'idle-kernel-with-watchdog.ts');
    const result = await execa(process.execPath, ['--import', 'tsx', script], {
      timeout: 30_000,
      reject: false,
    });
    expect(result.exitCode).toBe(0);
    const watchdogPid = Number(result.stdout.trim());
    expect(watchdogPid).toBeGreaterThan(0);
    // The kernel ended on its own; its watchdog saw the pipe close and left too.
    await waitUntil(() => !alive(watchdogPid), 10_000, 'watchdog exited');
  });

  it('stops watching a process once it was stopped', async () => {
    const watchdog = newWatchdog();
    const proc = await standIn(watchdog);
    expect([...watchdog.watched.keys()]).toEqual([proc.pgid]);
    await proc.stop();
    expect(watchdog.watched.size).toBe(0);
  });

  it('close() ends the watchdog, which stops any group still watched', async () => {
    const watchdog = newWatchdog();
    const proc = await standIn(watchdog);
    const watchdogPid = watchdog.pid!;
    await watchdog.close();
    expect(await proc.exited).toMatchObject({ exitCode: 0 });
    expect(alive(watchdogPid)).toBe(false);
    expect(watchdog.closed).toBe(true);
    await watchdog.close();
  });

  it('replaces a watchdog that was killed and keeps covering the watched groups', async () => {
    const watchdog = newWatchdog();
    const proc = await standIn(watchdog);
    const first = watchdog.pid!;
    process.kill(first, 'SIGKILL');
    const second = await waitUntil(() => (watchdog.pid !== first ? watchdog.pid : undefined));
    expect(alive(second)).toBe(true);
    await watchdog.close();
    expect(await proc.exited).toMatchObject({ exitCode: 0 });
  });

  it('never signals a group whose leader has a different start time (pid reuse)', async () => {
    const unrelated = execa(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      detached: true,
      reject: false,
    });
    cleanups.push(async () => {
      killGroupQuietly(unrelated.pid);
      await unrelated;
    });
    const pid = unrelated.pid!;
    const watchdog = newWatchdog();
    await watchdog.start();
    await watchdog.watch(pid, readProcessStartTime(pid)! - 3_600_000);
    await watchdog.close();
    expect(alive(pid)).toBe(true);
  });

  it('kills the processes carrying its owner marker it was never told to watch when the kernel dies', async () => {
    const script = path.join(import.meta.dirname, 'marked-kernel.ts');
    const kernel = execa(process.execPath, ['--import', 'tsx', script], { reject: false, buffer: false });
    cleanups.push(async () => {
      kernel.kill('SIGKILL');
      await kernel;
    });
    const { marker, watchdogPid } = await new Promise<{ marker: string; watchdogPid: number }>((resolve) => {
      let out = '';
      kernel.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
      });
    });
    cleanups.push(() => killQuietly(watchdogPid));
    const start = (env: Record<string, string>) => {
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
    };
    const marked = start({ [OWNER_ENV]: marker });
    // Same kernel pid and start time, another tag: another kernel (watchdog) in that process.
    const otherKernel = start({ [OWNER_ENV]: marker.replace(/:[^:]*$/, ':other') });
    const unmarked = start({});
    await waitUntil(() => [marked, otherKernel, unmarked].every(alive), 10_000, 'all started');
    kernel.kill('SIGKILL');
    await kernel;
    await waitUntil(() => !alive(marked), 15_000, 'the marked process gone');
    await waitUntil(() => !alive(watchdogPid), 10_000, 'watchdog exited');
    expect(alive(otherKernel)).toBe(true);
    expect(alive(unmarked)).toBe(true);
  });

  it("close() of one kernel's watchdog leaves another watchdog's processes in the same process alone", async () => {
    const first = newWatchdog();
    const second = newWatchdog();
    expect(first.ownerMarker).not.toBe(second.ownerMarker);
    const mine = await standIn(first);
    const theirs = await standIn(second);
    await first.close();
    await mine.exited;
    expect(alive(theirs.pid)).toBe(true);
  });
});
