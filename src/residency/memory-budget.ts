import { readSystemMemory, type SystemMemory } from '../process/system-memory.js';
import { type NvidiaGpu, queryNvidiaGpus } from './nvidia-smi.js';

/** How much one device may hold for the kernel's instances. Bytes. */
export interface DeviceBudget {
  /** `system`, or `gpu<N>`. */
  device: string;
  /** Memory the kernel may use on it, before the reserve. */
  totalBytes: number;
  /** Headroom never handed out. */
  reserveBytes: number;
  /** Where `totalBytes` came from: `configured`, `meminfo` (MemAvailable), `cgroup` (limit minus usage), `nvidia-smi`. */
  source: 'configured' | 'meminfo' | 'cgroup' | 'nvidia-smi';
  /** A GPU's model name, when known. */
  name?: string;
}

/** The devices admission decides against. */
export interface MemoryBudget {
  devices: Record<string, DeviceBudget>;
}

/** How the kernel builds its budget (kernel option `residency`, shic.yaml `resources`). */
export interface MemoryBudgetOptions {
  /** Explicit budgets per device, in bytes; they win over detection. */
  budgets?: Record<string, number>;
  /** Headroom per device in bytes (one number = every device). @default 0 */
  reserve?: number | Record<string, number>;
  /** Measure system memory and query `nvidia-smi` for devices not configured. @default true */
  detect?: boolean;
  /** Stand-ins for tests. */
  readSystemMemory?: () => SystemMemory;
  queryGpus?: () => Promise<NvidiaGpu[]>;
}

function reserveFor(reserve: MemoryBudgetOptions['reserve'], device: string): number {
  if (typeof reserve === 'number') return reserve;
  return reserve?.[device] ?? 0;
}

/**
 * What the system may give: MemAvailable, or less when a cgroup limit applies (limit minus what the cgroup
 * already uses). Measured once, when the kernel starts: afterwards the kernel's own instances lower
 * MemAvailable, and counting them twice would shrink the budget with every load.
 */
export function systemBudgetBytes(memory: SystemMemory): { bytes: number; source: 'meminfo' | 'cgroup' } {
  const available = memory.availableBytes;
  if (memory.cgroupLimitBytes !== null) {
    const room = memory.cgroupLimitBytes - (memory.cgroupUsageBytes ?? 0);
    if (room < available) return { bytes: Math.max(0, room), source: 'cgroup' };
  }
  return { bytes: available, source: 'meminfo' };
}

/** Builds the budget: configured devices as given, then (with `detect`) system memory and NVIDIA GPUs. */
export async function detectMemoryBudget(options: MemoryBudgetOptions = {}): Promise<MemoryBudget> {
  const devices: Record<string, DeviceBudget> = {};
  for (const [device, bytes] of Object.entries(options.budgets ?? {})) {
    devices[device] = {
      device,
      totalBytes: bytes,
      reserveBytes: reserveFor(options.reserve, device),
      source: 'configured',
    };
  }
  if (options.detect ?? true) {
    if (!devices.system) {
      const { bytes, source } = systemBudgetBytes((options.readSystemMemory ?? readSystemMemory)());
      devices.system = {
        device: 'system',
        totalBytes: bytes,
        reserveBytes: reserveFor(options.reserve, 'system'),
        source,
      };
    }
    for (const gpu of await (options.queryGpus ?? (() => queryNvidiaGpus()))()) {
      if (devices[gpu.device]) continue;
      devices[gpu.device] = {
        device: gpu.device,
        totalBytes: gpu.freeBytes,
        reserveBytes: reserveFor(options.reserve, gpu.device),
        source: 'nvidia-smi',
        name: gpu.name,
      };
    }
  }
  return { devices };
}
