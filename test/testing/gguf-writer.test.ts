import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GGML_TYPE, type GgufValue } from '../../src/gguf/gguf-types.js';
import { parseGguf } from '../../src/gguf/parse-gguf.js';
import { readGgufHeader as readGguf } from '../../src/gguf/read-gguf-header.js';
import { encodeGguf, writeGguf } from '../../src/testing/gguf-writer.js';
import { TINY_LLAMA, writeTinyLlamaModel } from '../../src/testing/tiny-llama-model.js';

const sample = new Map<string, GgufValue>([
  ['general.architecture', { type: 'string', value: 'llama' }],
  ['general.alignment', { type: 'uint32', value: 32 }],
  ['u8', { type: 'uint8', value: 255 }],
  ['i8', { type: 'int8', value: -7 }],
  ['u16', { type: 'uint16', value: 65535 }],
  ['i16', { type: 'int16', value: -300 }],
  ['i32', { type: 'int32', value: -123456 }],
  ['f32', { type: 'float32', value: 0.5 }],
  ['f64', { type: 'float64', value: Math.PI }],
  ['flag', { type: 'bool', value: true }],
  ['u64', { type: 'uint64', value: 2n ** 40n }],
  ['i64', { type: 'int64', value: -(2n ** 40n) }],
  ['names', { type: 'array', itemType: 'string', value: ['a', 'ünïcode', ''] }],
  ['ids', { type: 'array', itemType: 'int32', value: [1, -2, 3] }],
]);
const tensors = [
  { name: 'a', dims: [3], data: new Float32Array([1, 2, 3]) },
  { name: 'b', dims: [2, 5], data: Float32Array.from({ length: 10 }, (_, i) => i / 4) },
];

describe('encodeGguf', () => {
  it('round-trips header, typed metadata in order and aligned tensor infos through parseGguf', () => {
    const bytes = encodeGguf(sample, tensors);
    const file = parseGguf(bytes);
    expect(file.version).toBe(3);
    expect([...file.metadata.keys()]).toEqual([...sample.keys()]);
    expect(file.metadata).toEqual(sample);
    expect(file.alignment).toBe(32);
    expect(file.dataOffset % 32).toBe(0);
    expect(file.tensors).toEqual([
      { name: 'a', dims: [3], ggmlType: GGML_TYPE.F32, offset: 0 },
      { name: 'b', dims: [2, 5], ggmlType: GGML_TYPE.F32, offset: 32 },
    ]);
    const b = file.tensors[1]!;
    const data = new Float32Array(
      bytes.buffer.slice(file.dataOffset + b.offset, file.dataOffset + b.offset + 40),
    );
    expect([...data]).toEqual([...tensors[1]!.data]);
    expect(bytes.length).toBe(file.dataOffset + 32 + 64);
  });

  it('rejects a tensor whose data does not match its dims', () => {
    expect(() => encodeGguf(new Map(), [{ name: 'x', dims: [4], data: new Float32Array(3) }])).toThrow(
      RangeError,
    );
  });

  it('is rejected by parseGguf when the magic is wrong', () => {
    expect(() => parseGguf(Buffer.from('GGML0000'))).toThrow(/Not a GGUF/);
  });
});

describe('writeTinyLlamaModel', () => {
  let dir: string;
  let vocabPath: string;
  const vocabTokens = ['<unk>', '<s>', '</s>', 'a', 'b', 'c', 'd', 'e'];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shic-gguf-'));
    vocabPath = join(dir, 'vocab.gguf');
    const vocab = new Map<string, GgufValue>([
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['llama.block_count', { type: 'uint32', value: 32 }],
      ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
      ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: vocabTokens }],
      ['tokenizer.ggml.scores', { type: 'array', itemType: 'float32', value: vocabTokens.map(() => 0) }],
      ['tokenizer.ggml.token_type', { type: 'array', itemType: 'int32', value: [2, 3, 3, 1, 1, 1, 1, 1] }],
      ['tokenizer.ggml.bos_token_id', { type: 'uint32', value: 1 }],
    ]);
    await writeGguf(vocabPath, vocab, []);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const sha = async (path: string) =>
    createHash('sha256')
      .update(await readFile(path))
      .digest('hex');

  it('writes identical bytes for the same seed and different bytes for another seed', async () => {
    const a = await writeTinyLlamaModel({ path: join(dir, 'a.gguf'), seed: 7, vocabPath });
    const b = await writeTinyLlamaModel({ path: join(dir, 'b.gguf'), seed: 7, vocabPath });
    const c = await writeTinyLlamaModel({ path: join(dir, 'c.gguf'), seed: 8, vocabPath });
    expect(await sha(a)).toBe(await sha(b));
    expect(await sha(a)).not.toBe(await sha(c));
  });

  it('stores the tiny model hyper-parameters, the copied tokenizer and the tensor layout', async () => {
    const file = await readGguf(await writeTinyLlamaModel({ path: join(dir, 'm.gguf'), vocabPath }));
    const value = (key: string) => file.metadata.get(key)?.value;
    expect(value('general.architecture')).toBe('llama');
    expect(value('llama.context_length')).toBe(TINY_LLAMA.contextLength);
    expect(value('llama.embedding_length')).toBe(64);
    expect(value('llama.block_count')).toBe(2);
    expect(value('llama.attention.head_count')).toBe(4);
    expect(value('llama.attention.head_count_kv')).toBe(4);
    expect(value('llama.feed_forward_length')).toBe(128);
    expect(value('llama.rope.dimension_count')).toBe(16);
    expect(value('llama.attention.layer_norm_rms_epsilon')).toBeCloseTo(1e-5, 10);
    expect(value('tokenizer.ggml.tokens')).toEqual(vocabTokens);
    expect(value('tokenizer.ggml.eos_token_id')).toBe(2);
    expect(file.alignment).toBe(32);
    const dims = Object.fromEntries(file.tensors.map((t) => [t.name, t.dims]));
    expect(file.tensors).toHaveLength(3 + 2 * 9);
    expect(dims['token_embd.weight']).toEqual([64, vocabTokens.length]);
    expect(dims['output.weight']).toEqual([64, vocabTokens.length]);
    expect(dims['blk.1.attn_output.weight']).toEqual([64, 64]);
    expect(dims['blk.1.ffn_gate.weight']).toEqual([64, 128]);
    expect(dims['blk.1.ffn_down.weight']).toEqual([128, 64]);
    expect(dims['blk.0.ffn_norm.weight']).toEqual([64]);
  });

  it('fails with a clear message when the vocab file has no llama tokenizer', async () => {
    const bad = join(dir, 'bad.gguf');
    await writeGguf(bad, new Map([['general.architecture', { type: 'string', value: 'x' }]]), []);
    await expect(writeTinyLlamaModel({ path: join(dir, 'x.gguf'), vocabPath: bad })).rejects.toThrow(
      /no llama tokenizer/,
    );
  });
});
