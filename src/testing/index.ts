// Public entry `self-hosted-inference-core/testing`: tools for backend authors and tests.

export * from './conformance/index.js';
export { parseGguf, readGguf } from './gguf-reader.js';
export {
  encodeGguf,
  GGML_TYPE,
  GGUF_VALUE_TYPES,
  type GgufFile,
  type GgufItemType,
  type GgufScalar,
  type GgufTensor,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueType,
  writeGguf,
} from './gguf-writer.js';
export {
  type EnsureTinyLlamaModelOptions,
  ensureTinyLlamaModel,
  TINY_LLAMA,
  type TinyLlamaModelOptions,
  writeTinyLlamaModel,
} from './tiny-llama-model.js';
