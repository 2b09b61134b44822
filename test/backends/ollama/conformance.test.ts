// The ollama backend under the backend-author conformance kit: attached to the Ollama stand-in daemon, which
// forwards /v1 to a real llama-server, behind an API key (the stand-in requires `authorization: Bearer`).
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import { createOllamaBackend } from 'self-hosted-inference-core/ollama';
import { describeBackendConformance } from 'self-hosted-inference-core/testing';
import { realLlamaServer } from '../../support/llama-fixture.js';
import { waitUntil } from '../../support/wait-until.js';
import { type OllamaStandIn, startOllamaStandIn } from './ollama-stand-in-process.js';

const API_KEY = 'sk-ollama-conformance-3e8a57';
let llama: ResultPromise | undefined;
let standIn: OllamaStandIn | undefined;

describeBackendConformance(() => createOllamaBackend(), {
  name: 'ollama (Ollama stand-in daemon, real llama-server upstream)',
  kind: 'attached',
  async setup() {
    const { binaryPath, modelPath } = await realLlamaServer();
    const port = await getPort();
    llama = execa(binaryPath, ['--model', modelPath, '--host', '127.0.0.1', '--port', String(port)], {
      stdio: 'ignore',
      reject: false,
    });
    const upstream = `http://127.0.0.1:${port}`;
    await waitUntil(
      () =>
        fetch(`${upstream}/health`).then(
          (r) => r.ok,
          () => false,
        ),
      {
        timeoutMs: 60_000,
        message: 'llama-server /health',
      },
    );
    standIn = await startOllamaStandIn(['--models', 'tiny', '--upstream', upstream, '--api-key', API_KEY]);
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
    llama?.kill('SIGKILL');
    await llama;
  },
  secrets: [API_KEY],
});
