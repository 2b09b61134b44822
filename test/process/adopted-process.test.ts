// AdoptedProcess on real processes (a `sleep` in its own group stands for a server a previous daemon started): it
// tells a live process from a gone one, stops and kills its group, and a stop resolves as soon as the group is gone —
// not at the next exit poll, whose unref'd timer would not keep an otherwise idle process alive.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AdoptedProcess } from '../../src/process/adopted-process.js';
import { isProcessAlive, readProcessStartTime } from '../../src/process/proc-info.js';

function startSleeper() {
  const child = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
  const pid = child.pid!;
  const startedAt = readProcessStartTime(pid)!;
  return { child, pid, startedAt };
}

const HOUR = 3_600_000;

describe('AdoptedProcess', () => {
  it('stops the group with SIGTERM and resolves without waiting for the exit poll', async () => {
    const { pid, startedAt } = startSleeper();
    const proc = new AdoptedProcess({
      pid,
      startedAt,
      command: 'sleep',
      args: ['600'],
      instanceId: 'i',
      pollMs: HOUR,
    });
    expect(proc.isDefunct()).toBe(false);
    const result = await proc.stop({ timeoutMs: 5000 });
    expect(result).toMatchObject({ exitCode: null, signal: null, forced: false });
    expect(isProcessAlive(pid)).toBe(false);
    expect(proc.exitInfo).not.toBeNull();
    expect(proc.isDefunct()).toBe(true);
  });

  it('kills the group and resolves without waiting for the exit poll', async () => {
    const { pid, startedAt } = startSleeper();
    const proc = new AdoptedProcess({
      pid,
      startedAt,
      command: 'sleep',
      args: ['600'],
      instanceId: 'i',
      pollMs: HOUR,
    });
    await proc.kill();
    expect(isProcessAlive(pid)).toBe(false);
    expect(proc.exitInfo).not.toBeNull();
  });

  it('never signals a pid whose start time is not the recorded one', async () => {
    const { child, pid, startedAt } = startSleeper();
    const proc = new AdoptedProcess({
      pid,
      startedAt: startedAt - 60_000,
      command: 'sleep',
      args: ['600'],
      instanceId: 'i',
      pollMs: HOUR,
    });
    expect(proc.isDefunct()).toBe(true);
    await proc.stop({ timeoutMs: 500 });
    expect(isProcessAlive(pid)).toBe(true);
    child.kill('SIGKILL');
  });
});
