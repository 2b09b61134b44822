import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readProcessStartTime } from '../../src/process/proc-info.js';
import { ProcessRecords } from '../../src/process/process-records.js';
import { runKernelChild } from './kernel-child-runner.js';
import { alive, killGroupQuietly, killQuietly, waitUntil } from './process-test-helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'process-records-'));
const cleanups: Array<() => unknown> = [];
let dirCount = 0;
const stateDir = () => path.join(tmp, `state-${++dirCount}`);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sleeperArgs = ['-e', 'setInterval(() => {}, 1000)'];
// These cases are about records: the owner-marker scan (which would also reap orphans of other tests'
// dead kernels running meanwhile) is covered by reap-orphans.test.ts.
const RECORDS_ONLY = { scanOwners: false } as const;

/** A live process the test owns, started detached like a spawned backend; killed after the test. */
function startSleeper() {
  const child = execa(process.execPath, sleeperArgs, { detached: true, reject: false });
  cleanups.push(async () => {
    killGroupQuietly(child.pid);
    await child;
  });
  const pid = child.pid!;
  return { pid, startTime: readProcessStartTime(pid)! };
}

/** Pid and start time of a process that has already exited (a dead kernel). */
async function deadProcess(): Promise<{ pid: number; startTime: number }> {
  const child = execa(process.execPath, ['-e', ''], { reject: false });
  const startTime = readProcessStartTime(child.pid!)!;
  await child;
  return { pid: child.pid!, startTime };
}

describe('ProcessRecords', () => {
  it('writes one 0600 JSON file per process in a 0700 directory, lists and removes them', () => {
    const records = new ProcessRecords(stateDir());
    records.record({
      pid: 4242,
      pgid: 4242,
      startTime: 1,
      command: '/bin/x',
      args: ['-a'],
      instanceId: 'i1',
    });
    records.record({ pid: 4343, pgid: 4343, startTime: 2, command: '/bin/y', args: [] });
    expect(statSync(records.dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(records.dir, '4242.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(records.dir).sort()).toEqual(['4242.json', '4343.json']);
    const listed = records.list().sort((a, b) => a.pid - b.pid);
    expect(listed[0]).toMatchObject({ pid: 4242, instanceId: 'i1', args: ['-a'], kernelPid: process.pid });
    expect(listed[0]!.kernelStartTime).toBe(readProcessStartTime(process.pid));
    records.remove(4242);
    records.remove(4242);
    expect(records.list().map((r) => r.pid)).toEqual([4343]);
  });

  it('skips files it cannot read as records', () => {
    const records = new ProcessRecords(stateDir());
    records.record({ pid: 5000, pgid: 5000, startTime: 1, command: 'x', args: [] });
    writeFileSync(path.join(records.dir, '5001.json'), '{ torn');
    writeFileSync(path.join(records.dir, 'notes.txt'), 'hello');
    expect(records.list().map((r) => r.pid)).toEqual([5000]);
  });

  it('reaps the stand-in servers a SIGKILLed kernel without watchdog left behind, grandchildren included', async () => {
    const dir = stateDir();
    const kernel = await runKernelChild(dir, ['--no-watchdog']);
    const { pids, grandchildren, kernelPid } = kernel.info;
    cleanups.push(() => {
      for (const pid of pids) killGroupQuietly(pid);
      for (const pid of grandchildren) killQuietly(pid);
    });
    process.kill(kernelPid, 'SIGKILL');
    await kernel.done;
    // Without a watchdog nothing stops them: they survive the kernel.
    expect([...pids, ...grandchildren].every(alive)).toBe(true);
    const result = await new ProcessRecords(dir).reapStale(undefined, RECORDS_ONLY);
    expect(result.killed.sort()).toEqual([...pids].sort());
    expect(result.skipped).toEqual([]);
    await waitUntil(() => ![...pids, ...grandchildren].some(alive), 15_000, 'stale servers gone');
    expect(new ProcessRecords(dir).list()).toEqual([]);
  });

  it('does not kill an unrelated process whose pid is recorded with another start time or command line', async () => {
    const records = new ProcessRecords(stateDir());
    const deadKernel = await deadProcess();
    const owner = { kernelPid: deadKernel.pid, kernelStartTime: deadKernel.startTime };
    const reused = startSleeper();
    records.record({
      ...owner,
      pid: reused.pid,
      pgid: reused.pid,
      startTime: reused.startTime - 3_600_000,
      command: process.execPath,
      args: sleeperArgs,
    });
    const otherCommand = startSleeper();
    records.record({
      ...owner,
      pid: otherCommand.pid,
      pgid: otherCommand.pid,
      startTime: otherCommand.startTime,
      command: '/usr/bin/llama-server',
      args: ['--port', '1'],
    });
    const result = await records.reapStale(undefined, RECORDS_ONLY);
    expect(result.killed).toEqual([]);
    expect(result.skipped.sort()).toEqual([reused.pid, otherCommand.pid].sort());
    expect(alive(reused.pid)).toBe(true);
    expect(alive(otherCommand.pid)).toBe(true);
    expect(records.list()).toEqual([]);
  });

  it('kills a recorded process that still matches once its kernel is gone', async () => {
    const records = new ProcessRecords(stateDir());
    const deadKernel = await deadProcess();
    const leftover = startSleeper();
    records.record({
      pid: leftover.pid,
      pgid: leftover.pid,
      startTime: leftover.startTime,
      command: process.execPath,
      args: sleeperArgs,
      kernelPid: deadKernel.pid,
      kernelStartTime: deadKernel.startTime,
    });
    expect(await records.reapStale(undefined, { ...RECORDS_ONLY, graceMs: 2000 })).toEqual({
      killed: [leftover.pid],
      skipped: [],
    });
    expect(alive(leftover.pid)).toBe(false);
  });

  it('leaves alone the records of a kernel that is still alive', async () => {
    const records = new ProcessRecords(stateDir());
    const mine = startSleeper();
    records.record({
      pid: mine.pid,
      pgid: mine.pid,
      startTime: mine.startTime,
      command: process.execPath,
      args: sleeperArgs,
    });
    expect(await records.reapStale(undefined, RECORDS_ONLY)).toEqual({ killed: [], skipped: [mine.pid] });
    expect(alive(mine.pid)).toBe(true);
    expect(records.list().map((r) => r.pid)).toEqual([mine.pid]);
  });

  it('drops the records of processes that are gone', async () => {
    const records = new ProcessRecords(stateDir());
    const gone = await deadProcess();
    records.record({
      pid: gone.pid,
      pgid: gone.pid,
      startTime: gone.startTime,
      command: process.execPath,
      args: ['-e', ''],
      kernelPid: gone.pid,
      kernelStartTime: gone.startTime,
    });
    expect(await records.reapStale(undefined, RECORDS_ONLY)).toEqual({ killed: [], skipped: [] });
    expect(records.list()).toEqual([]);
  });
});
