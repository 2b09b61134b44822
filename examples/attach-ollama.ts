// Attach to a running Ollama daemon: the kernel never starts or stops it, it only probes it and leases its
// OpenAI-compatible endpoint (`<root>/v1`).
//
//   OLLAMA_HOST=http://127.0.0.1:11434 OLLAMA_MODEL=llama3.2 npx tsx --conditions=shic-source examples/attach-ollama.ts
//
// OLLAMA_HOST takes any form Ollama accepts (`127.0.0.1:11434`, `http://host:port/`, …); OLLAMA_MODEL must be
// installed already (`ollama pull <model>`), or pass `pull: true` in backendOptions to let the daemon pull it.
import OpenAI from 'openai';
import { createKernel, KernelError } from 'self-hosted-inference-core';
import { createOllamaBackend } from 'self-hosted-inference-core/ollama';

async function main(): Promise<void> {
  const model = process.env.OLLAMA_MODEL ?? 'llama3.2';
  // With no `rootUrl` option the backend reads OLLAMA_HOST, else http://127.0.0.1:11434.
  const kernel = createKernel({ backends: [createOllamaBackend()] });
  try {
    const { endpoint, lease, compatibility } = await kernel.ensureEndpoint(
      {
        requestId: 'attach-ollama-1',
        targetPreference: { backend: 'ollama', backendOptions: { readyTimeoutMs: 15_000 } },
        modelPreference: { id: model },
      },
      {
        consumer: 'ollama-example',
        acceptedRuntimeKinds: ['service'],
        acceptedManagementModes: ['externally_managed'],
        acceptedProtocols: ['openai_chat_completions'],
        requiredCapabilities: { streaming: true },
      },
      { runId: 'example', attemptId: '1' },
      { ownerRef: 'attach-ollama-example', ttlMs: 30_000 },
    );
    const instance = kernel.lookupInstance(endpoint.healthRef);
    console.log(`compatibility ${compatibility.reason} via ${compatibility.resolvedManagementMode}`);
    console.log(`endpoint ${endpoint.baseUrl} (native root ${endpoint.sourceRuntimeRef})`);
    console.log(`ollama version ${String(endpoint.metadata.ollamaVersion ?? 'unknown')}`);
    console.log(`instance ${instance?.instanceId} state ${instance?.state} health ${instance?.health}`);

    const client = new OpenAI({ baseURL: endpoint.baseUrl, apiKey: 'ollama', maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_tokens: 8,
      stream: true,
    });
    let chunks = 0;
    for await (const chunk of stream) if (chunk.choices[0]?.delta) chunks += 1;
    console.log(`streamed ${chunks} chunks`);
    kernel.releaseLease(lease.leaseRef);
  } catch (error) {
    // e.g. `model_not_found` names the `ollama pull` command; `readiness_timeout` means no daemon answered.
    if (KernelError.isInstance(error)) console.error(`${error.code}: ${error.message}`);
    throw error;
  } finally {
    await kernel.close(); // forgets the attached instance; the Ollama daemon keeps running
  }
  console.log('done (the Ollama daemon is still running)');
}

main().catch((error: unknown) => {
  console.error('attach-ollama failed:', error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
