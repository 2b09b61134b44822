import { describe, expect, it } from 'vitest';
import {
  parseCgroupLimit,
  parseMeminfo,
  readResidentBytes,
  readSystemMemory,
} from '../../src/process/system-memory.js';

// Recorded from this project's CI machine (Debian 12, 24 GiB), trimmed.
const MEMINFO = `MemTotal:       24683640 kB
MemFree:        18227452 kB
MemAvailable:   22510004 kB
Buffers:          166232 kB
Cached:          4195552 kB
`;

describe('system memory', () => {
  it('parses /proc/meminfo and cgroup limit files', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ totalBytes: 24683640 * 1024, availableBytes: 22510004 * 1024 });
    expect(parseCgroupLimit('max\n')).toBeNull();
    expect(parseCgroupLimit('9223372036854771712\n')).toBeNull(); // v1 "no limit"
    expect(parseCgroupLimit('8589934592\n')).toBe(8 * 2 ** 30);
    expect(parseCgroupLimit(null)).toBeNull();
  });

  it('reads this machine and this process', () => {
    const system = readSystemMemory();
    expect(system.totalBytes).toBeGreaterThan(0);
    expect(system.availableBytes).toBeGreaterThan(0);
    expect(system.availableBytes).toBeLessThanOrEqual(system.totalBytes);
    const rss = readResidentBytes(process.pid);
    expect(rss).toBeGreaterThan(10 * 2 ** 20);
    expect(rss!).toBeLessThanOrEqual(process.memoryUsage().rss * 2);
    expect(readResidentBytes(2 ** 22 + 12345)).toBeNull();
  });
});
