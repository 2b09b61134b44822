import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import {
  clockTicksPerSecond,
  isProcessAlive,
  listGroupMembers,
  readProcessCmdline,
  readProcessStartTime,
  sameStartTime,
} from '../../src/process/proc-info.js';
import { killGroupQuietly, waitUntil } from './process-test-helpers.js';

describe('readProcessStartTime', () => {
  it('gives the real start time of a fresh process, stable across reads', async () => {
    const before = Date.now();
    const child = execa(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      detached: true,
      reject: false,
    });
    try {
      const pid = child.pid!;
      const first = readProcessStartTime(pid)!;
      expect(first).toBeGreaterThanOrEqual(before - 1500);
      expect(first).toBeLessThanOrEqual(Date.now() + 1500);
      expect(sameStartTime(readProcessStartTime(pid)!, first)).toBe(true);
      expect(readProcessCmdline(pid)).toEqual([process.execPath, '-e', 'setInterval(() => {}, 1000)']);
      expect(isProcessAlive(pid)).toBe(true);
      expect(listGroupMembers(pid)).toEqual([pid]);
    } finally {
      killGroupQuietly(child.pid);
      await child;
    }
    await waitUntil(() => !isProcessAlive(child.pid!), 10_000, 'child gone');
    expect(listGroupMembers(child.pid!)).toEqual([]);
  });

  it('is null for a pid that does not exist', () => {
    expect(readProcessStartTime(2 ** 22 + 7)).toBeNull();
    expect(readProcessCmdline(2 ** 22 + 7)).toBeNull();
  });

  it('reads the clock tick rate once', () => {
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
  });
});
