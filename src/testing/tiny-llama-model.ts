import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GgufValue } from '../gguf/gguf-types.js';
import { readGgufHeader as readGguf } from '../gguf/read-gguf-header.js';
import { type GgufTensor, writeGguf } from './gguf-writer.js';

/** Hyper-parameters of the tiny test model (llama architecture, context 512, embedding 64, 2 blocks, 4 heads). */
export const TINY_LLAMA = {
  contextLength: 512,
  embedding: 64,
  blocks: 2,
  heads: 4,
  kvHeads: 4,
  feedForward: 128,
  rmsEps: 1e-5,
  ropeDims: 16,
  /** Standard deviation of the random weights. */
  sigma: 0.02,
} as const;

/** Bumped whenever the file layout changes, so cached models are regenerated. */
const FORMAT_REVISION = 2;

/** Token ids the model must never emit: control tokens (0–2) and raw byte tokens (3–258, <0x00>–<0xFF>). */
const SUPPRESSED_TOKENS = 259;

/** Options for {@link writeTinyLlamaModel}. */
export interface TinyLlamaModelOptions {
  /** Output file. @default a fresh file in os.tmpdir() */
  path?: string;
  /** PRNG seed (uint32); the same seed and vocab give identical bytes. @default 42 */
  seed?: number;
  /** A llama SPM vocab-only GGUF (llama.cpp's `models/ggml-vocab-llama-spm.gguf`) to copy the tokenizer from. */
  vocabPath: string;
  /**
   * Training context the model declares (`llama.context_length`); llama-server caps each slot's context to it,
   * so long generations (e.g. to watch a cancelled one stop early) need a larger one. @default 512
   */
  contextLength?: number;
}

// mulberry32: tiny, fast and deterministic across platforms, which Math.random is not.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Box–Muller over the seeded uniform source gives normal weights with standard deviation `sigma`.
function normalTensor(random: () => number, count: number, sigma: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = 1 - random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u)) * sigma;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

// Random weights sometimes sample raw byte tokens that form invalid UTF-8, which llama-server's chat parser
// rejects with a 500. Every token embedding gets a constant first component, which dominates the normed final
// hidden state, and the byte and control tokens get a strongly negative output weight on it: their logits sit
// ~30 below the rest, so they are never sampled, while every other token stays random nonsense.
function steerAwayFromByteTokens(embeddings: Float32Array, output: Float32Array, vocab: number): void {
  const e = TINY_LLAMA.embedding;
  for (let token = 0; token < vocab; token++) {
    embeddings[token * e] = 1;
    output[token * e] = token < SUPPRESSED_TOKENS ? -4 : 0;
  }
}

function tinyTensors(seed: number, vocab: number): GgufTensor[] {
  const { embedding: e, feedForward: ff, sigma } = TINY_LLAMA;
  const random = mulberry32(seed);
  const rand = (name: string, dims: number[]) => ({
    name,
    dims,
    data: normalTensor(random, dims[0]! * dims[1]!, sigma),
  });
  const ones = (name: string) => ({ name, dims: [e], data: new Float32Array(e).fill(1) });
  const embeddings = rand('token_embd.weight', [e, vocab]);
  const output = rand('output.weight', [e, vocab]);
  steerAwayFromByteTokens(embeddings.data, output.data, vocab);
  const tensors: GgufTensor[] = [embeddings, ones('output_norm.weight'), output];
  for (let n = 0; n < TINY_LLAMA.blocks; n++) {
    const b = `blk.${n}`;
    tensors.push(ones(`${b}.attn_norm.weight`));
    for (const p of ['attn_q', 'attn_k', 'attn_v', 'attn_output'])
      tensors.push(rand(`${b}.${p}.weight`, [e, e]));
    tensors.push(ones(`${b}.ffn_norm.weight`));
    tensors.push(rand(`${b}.ffn_gate.weight`, [e, ff]), rand(`${b}.ffn_up.weight`, [e, ff]));
    tensors.push(rand(`${b}.ffn_down.weight`, [ff, e]));
  }
  return tensors;
}

function tinyMetadata(
  tokenizer: Map<string, GgufValue>,
  vocab: number,
  contextLength: number,
): Map<string, GgufValue> {
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  const t = TINY_LLAMA;
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: 'shic-tiny-llama' }],
    ['general.alignment', u32(32)],
    ['general.file_type', u32(0)],
    ['llama.vocab_size', u32(vocab)],
    ['llama.context_length', u32(contextLength)],
    ['llama.embedding_length', u32(t.embedding)],
    ['llama.block_count', u32(t.blocks)],
    ['llama.feed_forward_length', u32(t.feedForward)],
    ['llama.attention.head_count', u32(t.heads)],
    ['llama.attention.head_count_kv', u32(t.kvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'float32', value: t.rmsEps }],
    ['llama.rope.dimension_count', u32(t.ropeDims)],
  ]);
  for (const [key, value] of tokenizer) if (key.startsWith('tokenizer.')) metadata.set(key, value);
  metadata.set('tokenizer.ggml.bos_token_id', u32(1));
  metadata.set('tokenizer.ggml.eos_token_id', u32(2));
  return metadata;
}

/**
 * Writes the tiny llama GGUF v3 model (~17 MB, f32, random weights σ 0.02, tokenizer copied
 * from `vocabPath`). Deterministic: the same seed and vocab file give identical bytes. Written atomically.
 * @returns the written path.
 * @throws {Error} when `vocabPath` is not a llama-tokenizer GGUF.
 */
export async function writeTinyLlamaModel(options: TinyLlamaModelOptions): Promise<string> {
  const seed = options.seed ?? 42;
  const path = options.path ?? join(tmpdir(), `shic-tiny-llama-${seed}-${process.pid}-${Date.now()}.gguf`);
  const vocabFile = await readGguf(options.vocabPath);
  const model = vocabFile.metadata.get('tokenizer.ggml.model');
  const tokens = vocabFile.metadata.get('tokenizer.ggml.tokens');
  if (model?.value !== 'llama' || tokens?.type !== 'array') {
    throw new Error(
      `${options.vocabPath} has no llama tokenizer (tokenizer.ggml.model=${String(model?.value)})`,
    );
  }
  const vocab = tokens.value.length;
  await writeGguf(
    path,
    tinyMetadata(vocabFile.metadata, vocab, options.contextLength ?? TINY_LLAMA.contextLength),
    tinyTensors(seed, vocab),
  );
  return path;
}

/** Options for {@link ensureTinyLlamaModel}. */
export interface EnsureTinyLlamaModelOptions {
  /** See {@link TinyLlamaModelOptions.seed}. @default 42 */
  seed?: number;
  /** See {@link TinyLlamaModelOptions.vocabPath}. */
  vocabPath: string;
  /** Directory for cached models. @default `${XDG_CACHE_HOME ?? ~/.cache}/self-hosted-inference-core/models` */
  cacheDir?: string;
  /** See {@link TinyLlamaModelOptions.contextLength}. @default 512 */
  contextLength?: number;
}

/**
 * Returns the cached tiny model for `seed`, writing it first when absent. Safe to call from several processes
 * at once: each writes atomically and the bytes are identical.
 */
export async function ensureTinyLlamaModel(options: EnsureTinyLlamaModelOptions): Promise<string> {
  const seed = options.seed ?? 42;
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const dir = options.cacheDir ?? join(xdg, 'self-hosted-inference-core', 'models');
  const context = options.contextLength ?? TINY_LLAMA.contextLength;
  const suffix = context === TINY_LLAMA.contextLength ? '' : `-ctx-${context}`;
  const path = join(dir, `tiny-llama-r${FORMAT_REVISION}-seed-${seed}${suffix}.gguf`);
  if (existsSync(path)) return path;
  await mkdir(dir, { recursive: true });
  return writeTinyLlamaModel({ path, seed, vocabPath: options.vocabPath, contextLength: context });
}
