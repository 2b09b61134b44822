// The openai-compatible attach backend (guides/gateway.md): any server speaking OpenAI's API, by URL.
export {
  createOpenAiCompatibleBackend,
  OPENAI_COMPATIBLE_MANIFEST,
} from './create-openai-compatible-backend.js';
export { listServedModels, type ServedModels } from './list-served-models.js';
export {
  type OpenAiCompatibleOptions,
  type OpenAiCompatibleSpec,
  openAiCompatibleOptionsContract,
  openAiCompatibleOptionsSchema,
  parseOpenAiCompatibleSpec,
} from './openai-compatible-spec.js';
