import { readFileSync } from 'node:fs';

/** What the machine (and the cgroup the daemon runs in) has, in bytes. */
export interface SystemMemory {
  /** MemTotal. */
  totalBytes: number;
  /** MemAvailable: what can be allocated without swapping. */
  availableBytes: number;
  /** The cgroup's `memory.max` (v2) or `memory.limit_in_bytes` (v1), when one limits the daemon; else null. */
  cgroupLimitBytes: number | null;
  /** The cgroup's current usage, when a limit applies; else null. */
  cgroupUsageBytes: number | null;
}

/** `/proc/meminfo` fields (kB) as bytes. */
export function parseMeminfo(text: string): { totalBytes: number; availableBytes: number } {
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  };
  return { totalBytes: field('MemTotal'), availableBytes: field('MemAvailable') };
}

/** A cgroup limit file's value: a byte count, or null for `max` / a v1 "no limit" sentinel (≥ 2^60). */
export function parseCgroupLimit(text: string | null): number | null {
  const value = text?.trim();
  if (!value || value === 'max') return null;
  const bytes = Number(value);
  return Number.isFinite(bytes) && bytes < 2 ** 60 ? bytes : null;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Reads the machine's memory and the cgroup limit that applies to this process (Linux; elsewhere zeros). */
export function readSystemMemory(): SystemMemory {
  const meminfo = read('/proc/meminfo');
  if (!meminfo) return { totalBytes: 0, availableBytes: 0, cgroupLimitBytes: null, cgroupUsageBytes: null };
  const { totalBytes, availableBytes } = parseMeminfo(meminfo);
  // cgroup v2 first (one unified hierarchy), then v1's memory controller.
  const limit =
    parseCgroupLimit(read('/sys/fs/cgroup/memory.max')) ??
    parseCgroupLimit(read('/sys/fs/cgroup/memory/memory.limit_in_bytes'));
  const usage =
    limit === null
      ? null
      : (parseCgroupLimit(read('/sys/fs/cgroup/memory.current')) ??
        parseCgroupLimit(read('/sys/fs/cgroup/memory/memory.usage_in_bytes')));
  return { totalBytes, availableBytes, cgroupLimitBytes: limit, cgroupUsageBytes: usage };
}

/** A process's resident set (`VmRSS` of `/proc/<pid>/status`) in bytes, or null when it cannot be read. */
export function readResidentBytes(pid: number): number | null {
  const status = read(`/proc/${pid}/status`);
  const match = status ? /^VmRSS:\s+(\d+) kB/m.exec(status) : null;
  return match ? Number(match[1]) * 1024 : null;
}
