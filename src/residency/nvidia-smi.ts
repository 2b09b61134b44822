import { execa } from 'execa';

/** One NVIDIA GPU as `nvidia-smi` reports it; memory in bytes. */
export interface NvidiaGpu {
  /** `gpu<index>`: the device name budgets and charges use. */
  device: string;
  index: number;
  uuid: string;
  name: string;
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
}

/** The query the kernel runs; {@link parseNvidiaSmiCsv} reads its output. */
export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,uuid,name,memory.total,memory.used,memory.free',
  '--format=csv,noheader,nounits',
] as const;

const MIB = 1024 * 1024;

/**
 * Parses `nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,memory.free --format=csv,noheader,nounits`
 * (memory in MiB). Lines it cannot read (`[N/A]`, `[Not Supported]`, driver warnings) are skipped, not guessed.
 */
export function parseNvidiaSmiCsv(text: string): NvidiaGpu[] {
  const gpus: NvidiaGpu[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const fields = raw.split(',').map((field) => field.trim());
    if (fields.length !== 6) continue;
    const [index, uuid, name, total, used, free] = fields as [string, string, string, string, string, string];
    const numbers = [index, total, used, free].map((value) =>
      /^\d+$/.test(value) ? Number(value) : Number.NaN,
    );
    if (numbers.some(Number.isNaN)) continue;
    const [i, t, u, f] = numbers as [number, number, number, number];
    gpus.push({
      device: `gpu${i}`,
      index: i,
      uuid,
      name,
      totalBytes: t * MIB,
      usedBytes: u * MIB,
      freeBytes: f * MIB,
    });
  }
  return gpus;
}

/**
 * Runs `nvidia-smi` (from PATH, or `command`) with a deadline. No NVIDIA driver → `[]` (not an error: the
 * machine simply has no NVIDIA GPU). A failing or hanging `nvidia-smi` → `[]` too, and the reason in `onError`.
 */
export async function queryNvidiaGpus(
  options: { command?: string; timeoutMs?: number; onError?: (error: unknown) => void } = {},
): Promise<NvidiaGpu[]> {
  try {
    const { stdout } = await execa(options.command ?? 'nvidia-smi', [...NVIDIA_SMI_ARGS], {
      timeout: options.timeoutMs ?? 5_000,
      reject: true,
    });
    return parseNvidiaSmiCsv(stdout);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') options.onError?.(error);
    return [];
  }
}

/**
 * A `measureFree` for residency's recovery wait: a GPU's free memory from a fresh `nvidia-smi` query; `undefined`
 * for `system` and for devices nvidia-smi does not list.
 */
export function measureGpuFree(
  query: () => Promise<NvidiaGpu[]> = () => queryNvidiaGpus(),
): (device: string) => Promise<number | undefined> {
  return async (device) => {
    if (!device.startsWith('gpu')) return undefined;
    return (await query()).find((gpu) => gpu.device === device)?.freeBytes;
  };
}
