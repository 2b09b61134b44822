// The ollama backend under the backend-author conformance kit: attached to the Ollama stand-in daemon, which
// forwards /v1 to a real llama-server, behind an API key (the stand-in requires `authorization: Bearer`).
import { createOllamaBackend } from 'self-hosted-inference-core/ollama';
import { describeBackendConformance } from 'self-hosted-inference-core/testing/vitest';
import { type LlamaUpstream, startLlamaUpstream } from '../../support/start-llama-upstream.js';
import { type OllamaStandIn, startOllamaStandIn } from './ollama-stand-in-process.js';

const API_KEY = 'sk-ollama-conformance-3e8a57';
let llama: LlamaUpstream | undefined;
let standIn: OllamaStandIn | undefined;

describeBackendConformance(() => createOllamaBackend(), {
  name: 'ollama (Ollama stand-in daemon, real llama-server upstream)',
  kind: 'attached',
  async setup() {
    llama = await startLlamaUpstream();
    standIn = await startOllamaStandIn(['--models', 'tiny', '--upstream', llama.url, '--api-key', API_KEY]);
    return {
      spec: {
        backend: 'ollama',
        modelIdentity: 'tiny',
        backendOptions: { rootUrl: standIn.url, apiKey: API_KEY },
      },
    };
  },
  async teardown() {
    await standIn?.kill();
    await llama?.kill();
  },
  secrets: [API_KEY],
});
