import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GGML_TYPE, type GgufValue } from '../gguf/gguf-types.js';
import { readGgufHeader } from '../gguf/read-gguf-header.js';
import { type GgufTensor, writeGguf } from './gguf-writer.js';

/** The shape of a generated model: what decides how much memory llama-server needs to load it. */
export interface ModelShape {
  /** `llama` (full attention everywhere) or `gemma2` (sliding-window attention on every `slidingWindowPattern`-th layer but the last). @default "llama" */
  architecture?: 'llama' | 'gemma2';
  blocks: number;
  embedding: number;
  heads: number;
  kvHeads: number;
  feedForward: number;
  /** Training context (`<arch>.context_length`); llama-server's default `--ctx-size`. */
  contextLength: number;
  /** ggml type of the 2-D weights (`GGML_TYPE`); norms stay f32. Quantized types need widths that are multiples of their block. @default GGML_TYPE.F16 */
  weightType?: number;
  /** gemma2 only: `attention.sliding_window`. @default 4096 (llama.cpp's gemma2 default) */
  slidingWindow?: number;
  /** gemma2 only: `attention.sliding_window_pattern` (every Nth layer is full attention). @default 2 */
  slidingWindowPattern?: number;
}

/** Options of {@link writeShapedModel}. */
export interface ShapedModelOptions {
  shape: ModelShape;
  /** A llama SPM vocab-only GGUF (llama.cpp's `models/ggml-vocab-llama-spm.gguf`) to copy the tokenizer from. */
  vocabPath: string;
  /** Output file. @default a fresh file in os.tmpdir() */
  path?: string;
}

/**
 * Writes a GGUF model of any shape with all-zero weights: llama-server loads it, reserves exactly the buffers a
 * real model of that shape needs, and answers (with nonsense). For memory measurements, where values do not
 * matter and sizes do; {@link writeTinyLlamaModel} is the one to chat with.
 * @returns the written path.
 */
export async function writeShapedModel(options: ShapedModelOptions): Promise<string> {
  const shape = options.shape;
  const arch = shape.architecture ?? 'llama';
  const weightType = shape.weightType ?? GGML_TYPE.F16;
  const vocabFile = await readGgufHeader(options.vocabPath);
  const tokens = vocabFile.metadata.get('tokenizer.ggml.tokens');
  if (tokens?.type !== 'array') throw new Error(`${options.vocabPath} has no tokenizer.ggml.tokens`);
  const vocab = tokens.value.length;
  const e = shape.embedding;
  const headDim = e / shape.heads;
  const kv = headDim * shape.kvHeads;
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: arch }],
    ['general.name', { type: 'string', value: `shic-shaped-${arch}` }],
    ['general.alignment', u32(32)],
    [`${arch}.vocab_size`, u32(vocab)],
    [`${arch}.context_length`, u32(shape.contextLength)],
    [`${arch}.embedding_length`, u32(e)],
    [`${arch}.block_count`, u32(shape.blocks)],
    [`${arch}.feed_forward_length`, u32(shape.feedForward)],
    [`${arch}.attention.head_count`, u32(shape.heads)],
    [`${arch}.attention.head_count_kv`, u32(shape.kvHeads)],
    [`${arch}.attention.layer_norm_rms_epsilon`, { type: 'float32', value: 1e-5 }],
  ]);
  if (arch === 'llama') metadata.set('llama.rope.dimension_count', u32(headDim));
  if (arch === 'gemma2') {
    if (shape.slidingWindow !== undefined)
      metadata.set('gemma2.attention.sliding_window', u32(shape.slidingWindow));
    if (shape.slidingWindowPattern !== undefined)
      metadata.set('gemma2.attention.sliding_window_pattern', u32(shape.slidingWindowPattern));
  }
  for (const [key, value] of vocabFile.metadata) if (key.startsWith('tokenizer.')) metadata.set(key, value);
  metadata.set('tokenizer.ggml.bos_token_id', u32(1));
  metadata.set('tokenizer.ggml.eos_token_id', u32(2));

  const ones = (name: string): GgufTensor => ({ name, dims: [e], data: new Float32Array(e).fill(1) });
  const weight = (name: string, dims: number[]): GgufTensor => ({ name, dims, zeros: weightType });
  // gemma2 ties the output head to the token embeddings; llama has its own.
  const tensors: GgufTensor[] = [weight('token_embd.weight', [e, vocab]), ones('output_norm.weight')];
  if (arch === 'llama') tensors.push(weight('output.weight', [e, vocab]));
  for (let n = 0; n < shape.blocks; n++) {
    const b = `blk.${n}`;
    tensors.push(
      ones(`${b}.attn_norm.weight`),
      weight(`${b}.attn_q.weight`, [e, e]),
      weight(`${b}.attn_k.weight`, [e, kv]),
      weight(`${b}.attn_v.weight`, [e, kv]),
      weight(`${b}.attn_output.weight`, [e, e]),
      ones(`${b}.ffn_norm.weight`),
      weight(`${b}.ffn_gate.weight`, [e, shape.feedForward]),
      weight(`${b}.ffn_up.weight`, [e, shape.feedForward]),
      weight(`${b}.ffn_down.weight`, [shape.feedForward, e]),
    );
    if (arch === 'gemma2')
      tensors.push(ones(`${b}.post_attention_norm.weight`), ones(`${b}.post_ffw_norm.weight`));
  }
  const path = options.path ?? join(tmpdir(), `shic-shaped-${randomBytes(6).toString('hex')}.gguf`);
  await writeGguf(path, metadata, tensors);
  return path;
}
