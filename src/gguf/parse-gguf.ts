import {
  GGUF_VALUE_TYPES,
  type GgufFile,
  type GgufItemType,
  type GgufScalar,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueType,
} from './gguf-types.js';

/** The buffer ended inside the header: read more of the file and parse again. */
export class GgufTruncatedError extends RangeError {
  override readonly name = 'GgufTruncatedError';
}

class ByteReader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}
  private take(n: number): number {
    if (this.offset + n > this.buf.length)
      throw new GgufTruncatedError(`GGUF truncated at byte ${this.offset}`);
    const at = this.offset;
    this.offset += n;
    return at;
  }
  u32(): number {
    return this.buf.readUInt32LE(this.take(4));
  }
  u64(): number {
    return Number(this.buf.readBigUInt64LE(this.take(8)));
  }
  type(): GgufValueType {
    const code = this.u32();
    const type = GGUF_VALUE_TYPES[code];
    if (!type) throw new RangeError(`Unknown GGUF value type ${code} at byte ${this.offset - 4}`);
    return type;
  }
  scalar(type: GgufItemType): GgufScalar {
    const b = this.buf;
    switch (type) {
      case 'uint8':
        return b.readUInt8(this.take(1));
      case 'int8':
        return b.readInt8(this.take(1));
      case 'bool':
        return b.readUInt8(this.take(1)) !== 0;
      case 'uint16':
        return b.readUInt16LE(this.take(2));
      case 'int16':
        return b.readInt16LE(this.take(2));
      case 'uint32':
        return b.readUInt32LE(this.take(4));
      case 'int32':
        return b.readInt32LE(this.take(4));
      case 'float32':
        return b.readFloatLE(this.take(4));
      case 'float64':
        return b.readDoubleLE(this.take(8));
      case 'uint64':
        return b.readBigUInt64LE(this.take(8));
      case 'int64':
        return b.readBigInt64LE(this.take(8));
      case 'string': {
        const length = this.u64();
        const at = this.take(length);
        return b.toString('utf8', at, at + length);
      }
    }
  }
  value(): GgufValue {
    const type = this.type();
    if (type !== 'array') return { type, value: this.scalar(type) } as GgufValue;
    const itemType = this.type();
    if (itemType === 'array') throw new RangeError('Nested GGUF arrays are not supported');
    const count = this.u64();
    const value: GgufScalar[] = new Array(count);
    for (let i = 0; i < count; i++) value[i] = this.scalar(itemType);
    return { type, itemType, value };
  }
}

/**
 * Parses the header of a GGUF v2/v3 file: metadata (types preserved), tensor infos and the data offset.
 * @throws {GgufTruncatedError} when the buffer ends inside the header.
 * @throws {RangeError} when the magic, version or a type code is invalid.
 */
export function parseGguf(buffer: Buffer): GgufFile {
  const r = new ByteReader(buffer);
  if (buffer.length < 4 || buffer.toString('latin1', 0, 4) !== 'GGUF')
    throw new RangeError('Not a GGUF file');
  r.u32();
  const version = r.u32();
  if (version !== 2 && version !== 3) throw new RangeError(`Unsupported GGUF version ${version}`);
  const tensorCount = r.u64();
  const kvCount = r.u64();
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.scalar('string') as string;
    metadata.set(key, r.value());
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = r.scalar('string') as string;
    const nDims = r.u32();
    const dims = Array.from({ length: nDims }, () => r.u64());
    tensors.push({ name, dims, ggmlType: r.u32(), offset: r.u64() });
  }
  const alignmentValue = metadata.get('general.alignment');
  const alignment = alignmentValue?.type === 'uint32' ? alignmentValue.value : 32;
  return { version, metadata, tensors, alignment, dataOffset: Math.ceil(r.offset / alignment) * alignment };
}
