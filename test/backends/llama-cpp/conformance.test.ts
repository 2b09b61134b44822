// The llama-cpp backend under the backend-author conformance kit, with the real llama-server and tiny model.
import { createLlamaCppBackend } from 'self-hosted-inference-core/llama-cpp';
import { describeBackendConformance } from 'self-hosted-inference-core/testing/vitest';
import { realLlamaServer } from '../../support/llama-fixture.js';

const API_KEY = 'sk-llama-conformance-91c4e2';
let binaryPath = '';

describeBackendConformance(() => createLlamaCppBackend({ binaryPath }), {
  name: 'llama-cpp (real llama-server, tiny model, API key)',
  kind: 'spawned',
  async setup() {
    const llama = await realLlamaServer();
    binaryPath = llama.binaryPath;
    return {
      spec: { backend: 'llama-cpp', bootSpec: { model: llama.modelPath, ctxSize: 512, apiKey: API_KEY } },
    };
  },
  secrets: [API_KEY],
});
