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

/** ggml tensor type codes used by name in this repository (the full table is {@link GGML_TYPE_LAYOUT}). */
export const GGML_TYPE = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q4_K: 12, Q6_K: 14, BF16: 30 } as const;

/**
 * Storage of each ggml tensor type, by code: `[elements per block, bytes per block]` (ggml's type traits as of
 * the llama.cpp bundled with node-llama-cpp 3.21.1). Codes 4, 5 and 31–33 are retired and absent.
 */
// biome-ignore format: a table
export const GGML_TYPE_LAYOUT: Readonly<Record<number, readonly [number, number]>> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292],
  16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82],
  23: [256, 136], 24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2],
  34: [256, 54], 35: [256, 66], 39: [32, 17],
};

/**
 * Bytes a tensor of `elements` values of ggml type `ggmlType` occupies, or `undefined` for a type this table
 * does not know (callers then fall back to the span between tensor offsets).
 */
export function ggmlTensorBytes(ggmlType: number, elements: number): number | undefined {
  const layout = GGML_TYPE_LAYOUT[ggmlType];
  if (!layout) return undefined;
  return Math.ceil(elements / layout[0]) * layout[1];
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
