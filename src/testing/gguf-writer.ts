import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import {
  GGML_TYPE,
  GGUF_VALUE_TYPES,
  type GgufItemType,
  type GgufScalar,
  type GgufValue,
  ggmlTensorBytes,
} from '../gguf/gguf-types.js';

/**
 * A tensor to write, dims in GGUF order (ne[0], the fastest-varying, first): f32 `data`, or all-zero bytes of
 * any ggml type in `zeros` (a valid tensor of every type, e.g. Q8_0: zero scale and zero quants), for shapes
 * whose memory matters and whose values do not.
 */
export type GgufTensor =
  | { name: string; dims: number[]; data: Float32Array }
  | { name: string; dims: number[]; zeros: number };

const MAGIC = 0x46554747; // "GGUF" little-endian
const align = (n: number, a: number) => Math.ceil(n / a) * a;

class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  scalar(type: GgufItemType, v: GgufScalar): void {
    if (type === 'string') {
      const bytes = Buffer.from(String(v), 'utf8');
      this.scalar('uint64', BigInt(bytes.length));
      this.ensure(bytes.length);
      bytes.copy(this.buf, this.length);
      this.length += bytes.length;
      return;
    }
    const size = { uint8: 1, int8: 1, bool: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4 }[
      type as 'uint8'
    ];
    this.ensure(size ?? 8);
    const b = this.buf;
    const o = this.length;
    const n = Number(v);
    if (type === 'uint8' || type === 'bool') b.writeUInt8(type === 'bool' ? (v ? 1 : 0) : n, o);
    else if (type === 'int8') b.writeInt8(n, o);
    else if (type === 'uint16') b.writeUInt16LE(n, o);
    else if (type === 'int16') b.writeInt16LE(n, o);
    else if (type === 'uint32') b.writeUInt32LE(n, o);
    else if (type === 'int32') b.writeInt32LE(n, o);
    else if (type === 'float32') b.writeFloatLE(n, o);
    else if (type === 'float64') b.writeDoubleLE(n, o);
    else if (type === 'uint64') b.writeBigUInt64LE(BigInt(v), o);
    else b.writeBigInt64LE(BigInt(v), o);
    this.length += size ?? 8;
  }
  value(v: GgufValue): void {
    this.scalar('uint32', GGUF_VALUE_TYPES.indexOf(v.type));
    if (v.type !== 'array') {
      this.scalar(v.type, v.value);
      return;
    }
    this.scalar('uint32', GGUF_VALUE_TYPES.indexOf(v.itemType));
    this.scalar('uint64', BigInt(v.value.length));
    for (const item of v.value) this.scalar(v.itemType, item);
  }
  pad(alignment: number): void {
    const target = align(this.length, alignment);
    this.ensure(target - this.length);
    this.length = target; // Buffer.alloc zero-fills
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * Encodes a GGUF v3 file: header, metadata in the given order, tensor infos, then f32 data, each tensor
 * aligned to `general.alignment` (32 when absent).
 */
export function encodeGguf(metadata: Map<string, GgufValue>, tensors: readonly GgufTensor[]): Buffer {
  const alignmentValue = metadata.get('general.alignment');
  const alignment = alignmentValue?.type === 'uint32' ? alignmentValue.value : 32;
  const w = new ByteWriter();
  w.scalar('uint32', MAGIC);
  w.scalar('uint32', 3);
  w.scalar('uint64', BigInt(tensors.length));
  w.scalar('uint64', BigInt(metadata.size));
  for (const [key, value] of metadata) {
    w.scalar('string', key);
    w.value(value);
  }
  let offset = 0;
  const sizes = tensors.map((t) => {
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if ('data' in t && elements !== t.data.length)
      throw new RangeError(`${t.name}: dims ${t.dims} need ${elements} values`);
    const type = 'data' in t ? GGML_TYPE.F32 : t.zeros;
    const bytes = ggmlTensorBytes(type, elements);
    if (bytes === undefined) throw new RangeError(`${t.name}: unknown ggml type ${type}`);
    w.scalar('string', t.name);
    w.scalar('uint32', t.dims.length);
    for (const d of t.dims) w.scalar('uint64', BigInt(d));
    w.scalar('uint32', type);
    w.scalar('uint64', BigInt(offset));
    offset = align(offset + bytes, alignment);
    return bytes;
  });
  w.pad(alignment);
  const header = w.bytes();
  const out = Buffer.alloc(header.length + offset);
  header.copy(out);
  let at = header.length;
  tensors.forEach((t, i) => {
    if ('data' in t) Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += align(sizes[i]!, alignment);
  });
  return out;
}

/** Writes {@link encodeGguf}'s output to `path` atomically (temp file + rename). */
export async function writeGguf(
  path: string,
  metadata: Map<string, GgufValue>,
  tensors: readonly GgufTensor[],
): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, encodeGguf(metadata, tensors));
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}
