/** One buffer llama-server reported allocating while it loaded a model. */
export interface LlamaBufferReport {
  /** `model`, `KV`, `output`, `compute` (llama.cpp's own words). */
  kind: string;
  /** The ggml backend buffer, e.g. `CPU_Mapped`, `CPU_REPACK`, `CUDA0`, `CUDA_Host`. */
  buffer: string;
  /** Memory device the kernel charges: `system`, or `gpu<N>` for a numbered accelerator. */
  device: string;
  bytes: number;
}

// `load_tensors:   CPU_Mapped model buffer size =    15.94 MiB`, `llama_kv_cache:        CPU KV buffer size = …`,
// `sched_reserve:        CPU compute buffer size = …`, `llama_context:  CUDA_Host  output buffer size = …`.
const BUFFER = /\b(\S+)\s+(model|KV|output|compute)\s+buffer size\s*=\s*([\d.]+)\s*MiB/;
const MIB = 1024 * 1024;

/**
 * The device a ggml buffer lives on: numbered accelerator buffers (`CUDA0`, `ROCm1`, `Vulkan0`, `Metal`…) are
 * `gpu<N>`; CPU buffers, repacked-weight buffers (`AMX`…) and pinned host buffers (`CUDA_Host`) are system memory.
 */
export function bufferDevice(buffer: string): string {
  if (/^CPU/i.test(buffer) || /_Host$/i.test(buffer) || isRepackBuffer(buffer)) return 'system';
  const numbered = /(\d+)$/.exec(buffer);
  return `gpu${numbered ? numbered[1] : '0'}`;
}

/**
 * CPU buffers holding repacked copies of weights (AMX tiles, AArch64/KleidiAI layouts). With the model
 * memory-mapped (llama-server's default) they replace pages of the mapping rather than add to it: the mapped
 * pages they were copied from are clean page cache the system reclaims.
 */
export function isRepackBuffer(buffer: string): boolean {
  return /^(AMX|CPU_REPACK|CPU_AARCH64|CPU_KLEIDIAI|CPU_EXTRA)/i.test(buffer);
}

/**
 * Reads one llama-server log line for a buffer allocation (printed at `-lv 4`); other lines → `undefined`.
 * The figures are rounded to 0.01 MiB by llama-server.
 */
export function parseLlamaBufferReport(line: string): LlamaBufferReport | undefined {
  const match = BUFFER.exec(line);
  if (!match) return undefined;
  const buffer = match[1]!;
  return {
    kind: match[2]!,
    buffer,
    device: bufferDevice(buffer),
    bytes: Math.round(Number(match[3]) * MIB),
  };
}
