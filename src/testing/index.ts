// Public entry `self-hosted-inference-core/testing`: tools for backend authors and tests.

// The GGUF reader moved to the main entry (the llama-cpp estimate reads headers); kept here under its old name.
export {
  GGML_TYPE,
  GGUF_VALUE_TYPES,
  type GgufFile,
  type GgufItemType,
  type GgufScalar,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueType,
} from '../gguf/gguf-types.js';
export { parseGguf } from '../gguf/parse-gguf.js';
export { readGgufHeader as readGguf } from '../gguf/read-gguf-header.js';
export * from './conformance/index.js';
export { encodeGguf, type GgufTensor, writeGguf } from './gguf-writer.js';
export {
  type EnsureTinyLlamaModelOptions,
  ensureTinyLlamaModel,
  TINY_LLAMA,
  type TinyLlamaModelOptions,
  writeTinyLlamaModel,
} from './tiny-llama-model.js';
