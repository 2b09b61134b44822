// The openai-compatible backend under the backend-author conformance kit, attached to a real llama-server
// (an OpenAI-compatible server the kernel does not own) that requires an API key.
import { createOpenAiCompatibleBackend } from 'self-hosted-inference-core/openai-compatible';
import { describeBackendConformance } from 'self-hosted-inference-core/testing/vitest';
import { type LlamaUpstream, startLlamaUpstream } from '../../support/start-llama-upstream.js';

const API_KEY = 'sk-openai-compatible-conformance-71c2';
let llama: LlamaUpstream | undefined;

describeBackendConformance(() => createOpenAiCompatibleBackend(), {
  name: 'openai-compatible (real llama-server, not owned)',
  kind: 'attached',
  async setup() {
    llama = await startLlamaUpstream(['--alias', 'tiny', '--api-key', API_KEY]);
    return {
      spec: {
        backend: 'openai-compatible',
        modelIdentity: 'tiny',
        backendOptions: { baseUrl: llama.url, apiKey: API_KEY },
      },
    };
  },
  async teardown() {
    await llama?.kill();
  },
  secrets: [API_KEY],
});
