import { GGML_TYPE, type GgufFile, type GgufValue, ggmlTensorBytes } from 'self-hosted-inference-core';

/** What decides llama-server's memory besides the model file, read from its argument list. */
export interface LlamaServerMemoryArgs {
  /** `--ctx-size`; absent or 0 = the model's training context per sequence. */
  ctxSize?: number;
  /** `--parallel`; absent = llama-server's auto (4 sequences sharing one unified KV cache). */
  parallel?: number;
  /** `--n-gpu-layers`; absent or 0 = everything in system memory. */
  nGpuLayers?: number;
  /** `--cache-type-k/-v`. @default 'f16' */
  cacheTypeK?: string;
  cacheTypeV?: string;
  /** `--ubatch-size`. @default 512 */
  ubatchSize?: number;
  /** `--kv-unified`. */
  kvUnified?: boolean;
  /** `--swa-full`: sliding-window layers keep the full context. */
  swaFull?: boolean;
  /** `--flash-attn off`: attention materializes the full score matrix. */
  flashAttnOff?: boolean;
  /** `--embeddings`: pooled outputs are kept besides the logits. */
  embeddings?: boolean;
  /** Bytes of the `--mmproj` file, when one is loaded. */
  mmprojBytes?: number;
}

/** The estimate, per device and per part. Bytes. */
export interface LlamaMemoryEstimate {
  bytes: Record<string, number>;
  detail: { weights: number; kv: number; output: number; compute: number; mmproj: number };
}

const CACHE_TYPE: Record<string, number> = {
  f32: GGML_TYPE.F32,
  f16: GGML_TYPE.F16,
  bf16: GGML_TYPE.BF16,
  q8_0: GGML_TYPE.Q8_0,
  q4_0: GGML_TYPE.Q4_0,
  q4_1: 3,
  iq4_nl: 20,
  q5_0: 6,
  q5_1: 7,
};

/** Sliding-window defaults llama.cpp applies per architecture when the GGUF does not say. */
const SWA_DEFAULTS: Record<string, { window: number; pattern: number }> = {
  gemma2: { window: 4096, pattern: 2 },
  gemma3: { window: 4096, pattern: 6 },
};

const pad = (n: number, to: number) => Math.ceil(n / to) * to;

function scalar(value: GgufValue | undefined): number | undefined {
  if (!value) return undefined;
  if (value.type === 'array') return undefined;
  if (typeof value.value === 'bigint') return Number(value.value);
  return typeof value.value === 'number' ? value.value : undefined;
}

// A per-layer value may be stored once or as one entry per layer (e.g. head_count_kv of hybrid models).
function perLayer(value: GgufValue | undefined, layers: number, fallback: number): number[] {
  if (value?.type === 'array')
    return Array.from({ length: layers }, (_, i) => Number(value.value[i] ?? fallback));
  return Array.from({ length: layers }, () => scalar(value) ?? fallback);
}

/**
 * llama-server's memory for a model and its arguments, from the GGUF header alone (llama.cpp as bundled with
 * node-llama-cpp 3.21.1): weights by tensor type, the blocks `nGpuLayers` offloads charged to `gpu0`; KV cache =
 * Σ layers × cells × (K + V row bytes of the cache types), sliding-window layers at `window (× sequences when
 * unified) + ubatch`, padded to 256 cells; logits `vocab × sequences × 4`; compute ≈ `4·ubatch·(2·embd + 3·ffn)`
 * plus an f16 attention mask per cache; plus the projector file. Weight repacking for the CPU (AMX, AArch64)
 * adds buffers it does not predict: calibration from the server's own report covers those.
 */
export function estimateLlamaMemory(header: GgufFile, args: LlamaServerMemoryArgs): LlamaMemoryEstimate {
  const meta = header.metadata;
  const arch = String(meta.get('general.architecture')?.value ?? 'llama');
  const key = (name: string) => meta.get(`${arch}.${name}`);
  const layers = scalar(key('block_count')) ?? 0;
  const embd = scalar(key('embedding_length')) ?? 0;
  const ffnValue = key('feed_forward_length');
  const ffn = Math.max(...perLayer(ffnValue, Math.max(1, layers), 0));
  const heads = perLayer(key('attention.head_count'), layers, 1);
  const kvHeads = perLayer(key('attention.head_count_kv'), layers, heads[0] ?? 1);
  const keyLength = scalar(key('attention.key_length')) ?? Math.floor(embd / Math.max(1, heads[0] ?? 1));
  const valueLength = scalar(key('attention.value_length')) ?? keyLength;
  const trainCtx = scalar(key('context_length')) ?? 4096;
  const tokens = meta.get('tokenizer.ggml.tokens');
  const vocab = scalar(key('vocab_size')) ?? (tokens?.type === 'array' ? tokens.value.length : 32_000);

  // Weights: each tensor at its stored size; offloaded blocks (the last nGpuLayers) and, when every block is
  // offloaded, the output head go to gpu0. Token embeddings always stay in system memory.
  const gpuLayers = Math.min(args.nGpuLayers ?? 0, layers + 1);
  const firstGpuBlock = layers - Math.min(gpuLayers, layers);
  const sorted = [...header.tensors].sort((a, b) => a.offset - b.offset);
  const bytes: Record<string, number> = { system: 0 };
  const charge = (device: string, n: number) => {
    bytes[device] = (bytes[device] ?? 0) + n;
  };
  let weights = 0;
  sorted.forEach((tensor, i) => {
    const elements = tensor.dims.reduce((a, b) => a * b, 1);
    const next = sorted[i + 1]?.offset;
    const size =
      ggmlTensorBytes(tensor.ggmlType, elements) ?? (next === undefined ? 0 : next - tensor.offset);
    weights += size;
    const block = /^blk\.(\d+)\./.exec(tensor.name);
    const onGpu = block
      ? gpuLayers > 0 && Number(block[1]) >= firstGpuBlock
      : gpuLayers > layers && !tensor.name.startsWith('token_embd');
    charge(onGpu ? 'gpu0' : 'system', size);
  });

  // KV cache: per stream (one when unified), cells = the context each stream holds.
  const unified = args.kvUnified ?? args.parallel === undefined;
  const sequences = args.parallel ?? 4;
  const streams = unified ? 1 : sequences;
  const ctx = args.ctxSize && args.ctxSize > 0 ? args.ctxSize : undefined;
  const cells =
    ctx === undefined
      ? pad(trainCtx, 256)
      : unified
        ? pad(ctx, 256)
        : pad(Math.ceil(pad(ctx, 256) / sequences), 256);
  const ubatch = Math.min(args.ubatchSize ?? 512, cells * streams);
  const swa = SWA_DEFAULTS[arch];
  const window = scalar(key('attention.sliding_window')) ?? swa?.window;
  const pattern = scalar(key('attention.sliding_window_pattern')) ?? swa?.pattern;
  const swaCells =
    window !== undefined && pattern !== undefined && !args.swaFull
      ? pad(Math.min(cells, window * (unified ? sequences : 1) + ubatch), 256)
      : undefined;
  const isSwa = (layer: number) =>
    swaCells !== undefined && pattern !== undefined && layer % pattern < pattern - 1;
  const typeK = CACHE_TYPE[args.cacheTypeK ?? 'f16'] ?? GGML_TYPE.F16;
  const typeV = CACHE_TYPE[args.cacheTypeV ?? 'f16'] ?? GGML_TYPE.F16;
  let kv = 0;
  for (let layer = 0; layer < layers; layer++) {
    const rows = streams * (isSwa(layer) ? swaCells! : cells);
    const perCell =
      (ggmlTensorBytes(typeK, kvHeads[layer]! * keyLength) ?? 0) +
      (ggmlTensorBytes(typeV, kvHeads[layer]! * valueLength) ?? 0);
    const size = rows * perCell;
    kv += size;
    charge(gpuLayers > 0 && layer >= firstGpuBlock ? 'gpu0' : 'system', size);
  }

  // Logits for one output per sequence (plus pooled embeddings when served).
  const output = vocab * sequences * 4 + (args.embeddings ? embd * sequences * 4 : 0);
  charge('system', output);

  // The compute graph's largest live set for one ubatch: activations through the feed-forward block, and the
  // f16 attention mask of each cache (one row per token of the ubatch, one column per cell of a stream).
  const masks = 2 * ubatch * (cells + (swaCells ?? 0));
  const scores = args.flashAttnOff ? 4 * ubatch * cells * Math.max(...heads, 1) : 0;
  const compute = 4 * ubatch * (2 * embd + 3 * ffn) + masks + scores;
  charge(gpuLayers > 0 ? 'gpu0' : 'system', compute);

  const mmproj = args.mmprojBytes ?? 0;
  charge(gpuLayers > 0 ? 'gpu0' : 'system', mmproj);
  return { bytes, detail: { weights, kv, output, compute, mmproj } };
}

/** Reads the memory-relevant flags from a llama-server argument list (the last occurrence wins, as in llama.cpp). */
export function memoryArgsOf(
  args: readonly string[],
): LlamaServerMemoryArgs & { model?: string; mmproj?: string } {
  const out: LlamaServerMemoryArgs & { model?: string; mmproj?: string } = {};
  const number = (value: string | undefined) => {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = args[i + 1];
    const set = <K extends keyof typeof out>(field: K, v: (typeof out)[K] | undefined) => {
      if (v !== undefined) out[field] = v;
    };
    switch (flag) {
      case '-m':
      case '--model':
        set('model', value);
        break;
      case '--mmproj':
      case '-mm':
        set('mmproj', value);
        break;
      case '-c':
      case '--ctx-size':
        set('ctxSize', number(value));
        break;
      case '-np':
      case '--parallel':
        // llama-server's -1 means auto, like leaving it out.
        if (number(value) !== undefined && number(value)! > 0) out.parallel = number(value)!;
        break;
      case '-ngl':
      case '--gpu-layers':
      case '--n-gpu-layers':
        set('nGpuLayers', value === 'all' || value === 'auto' ? 1_000_000 : number(value));
        break;
      case '-ctk':
      case '--cache-type-k':
        set('cacheTypeK', value);
        break;
      case '-ctv':
      case '--cache-type-v':
        set('cacheTypeV', value);
        break;
      case '-ub':
      case '--ubatch-size':
        set('ubatchSize', number(value));
        break;
      case '-kvu':
      case '--kv-unified':
        out.kvUnified = true;
        break;
      case '--swa-full':
        out.swaFull = true;
        break;
      case '-fa':
      case '--flash-attn':
        out.flashAttnOff = value === 'off' || value === 'false' || value === '0';
        break;
      case '--embedding':
      case '--embeddings':
        out.embeddings = true;
        break;
    }
  }
  return out;
}
