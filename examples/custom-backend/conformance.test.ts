// The backend-author conformance kit on this package, with a real llama-server as the command. Runs here and,
// unchanged, from the package's own directory with only its devDependencies and self-hosted-inference-core:
// `npm test` (the binary comes from SHIC_LLAMA_SERVER, PATH or the `shic llama-server build` cache).
import { Secret } from 'self-hosted-inference-core';
import { provisionLlamaServer, vocabModelPath } from 'self-hosted-inference-core/llama-cpp';
import { ensureTinyLlamaModel } from 'self-hosted-inference-core/testing';
import { describeBackendConformance } from 'self-hosted-inference-core/testing/vitest';
import { beforeAll } from 'vitest';
import { createBackend, PORT_PLACEHOLDER } from './index.js';

const API_KEY = 'sk-conformance-7c1f2a';
let command: string[] = [];

beforeAll(async () => {
  const { binaryPath } = await provisionLlamaServer();
  const modelPath = await ensureTinyLlamaModel({ vocabPath: await vocabModelPath() });
  command = [binaryPath, '--model', modelPath, '--port', PORT_PLACEHOLDER, '--ctx-size', '512'];
});

describeBackendConformance(
  () =>
    createBackend({
      id: 'llama-command',
      command,
      protocol: 'openai_chat_completions',
      capabilities: { streaming: true },
      // llama-server reads its key from LLAMA_API_KEY: the key stays out of argv and logs.
      env: { LLAMA_API_KEY: new Secret(API_KEY) },
      headers: { authorization: new Secret(`Bearer ${API_KEY}`) },
    }),
  {
    name: 'shic-backend-command (real llama-server)',
    kind: 'spawned',
    spec: { backend: 'llama-command', modelIdentity: 'tiny' },
    secrets: [API_KEY],
  },
);
