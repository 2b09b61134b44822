import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/** GGUF metadata value type names, in the order of their on-disk codes (0–12). */
// biome-ignore format: one row reads better than thirteen
export const GGUF_VALUE_TYPES = [
  'uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64',
] as const;

/** A GGUF metadata value type name. */
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];
/** Element type of a GGUF array (nested arrays are not supported). */
export type GgufItemType = Exclude<GgufValueType, 'array'>;
/** A JS value stored in a GGUF scalar: `bigint` for 64-bit integers. */
export type GgufScalar = number | bigint | boolean | string;
/** A typed GGUF metadata value; the type is kept so a value round-trips byte for byte. */
export type GgufValue =
  | { type: Exclude<GgufItemType, 'uint64' | 'int64' | 'bool' | 'string'>; value: number }
  | { type: 'uint64' | 'int64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: GgufItemType; value: GgufScalar[] };

/** ggml tensor type codes this module understands. */
export const GGML_TYPE = { F32: 0, F16: 1 } as const;

/** A tensor to write: f32 data, dims in GGUF order (ne[0], the fastest-varying, first). */
export interface GgufTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

/** Tensor info as stored in a GGUF header. */
export interface GgufTensorInfo {
  name: string;
  /** ne[0] first. */
  dims: number[];
  /** ggml type code, e.g. {@link GGML_TYPE}.F32. */
  ggmlType: number;
  /** Byte offset relative to the start of the data section. */
  offset: number;
}

/** A parsed GGUF file (header only; tensor data stays in the buffer). */
export interface GgufFile {
  version: number;
  /** Metadata in file order. */
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Data alignment in bytes (`general.alignment`). @default 32 */
  alignment: number;
  /** Absolute byte offset of the data section. */
  dataOffset: number;
}

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
  for (const t of tensors) {
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (elements !== t.data.length) throw new RangeError(`${t.name}: dims ${t.dims} need ${elements} values`);
    w.scalar('string', t.name);
    w.scalar('uint32', t.dims.length);
    for (const d of t.dims) w.scalar('uint64', BigInt(d));
    w.scalar('uint32', GGML_TYPE.F32);
    w.scalar('uint64', BigInt(offset));
    offset = align(offset + t.data.byteLength, alignment);
  }
  w.pad(alignment);
  const header = w.bytes();
  const out = Buffer.alloc(header.length + offset);
  header.copy(out);
  let at = header.length;
  for (const t of tensors) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += align(t.data.byteLength, alignment);
  }
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
