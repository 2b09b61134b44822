// A spawned llama-server endpoint used with the official `openai` client.
//
//   npx tsx --conditions=shic-source examples/spawned-openai.ts      (in this repo; plain `npx tsx` once installed)
//
// llama-server comes from $SHIC_LLAMA_SERVER, PATH, or a one-time build (`shic llama-server build`); the model
// from $SHIC_EXAMPLE_MODEL, else the tiny random-weight test model (its answers are nonsense).
import OpenAI from 'openai';
import { createKernel, exposeSecret } from 'self-hosted-inference-core';
import {
  createLlamaCppBackend,
  provisionLlamaServer,
  vocabModelPath,
} from 'self-hosted-inference-core/llama-cpp';
import { ensureTinyLlamaModel } from 'self-hosted-inference-core/testing';

async function main(): Promise<void> {
  const { binaryPath } = await provisionLlamaServer();
  const model =
    process.env.SHIC_EXAMPLE_MODEL ?? (await ensureTinyLlamaModel({ vocabPath: await vocabModelPath() }));
  const kernel = createKernel({ backends: [createLlamaCppBackend({ binaryPath })] });
  try {
    const { endpoint, lease } = await kernel.ensureEndpoint(
      {
        requestId: 'spawned-openai-1',
        targetPreference: { backend: 'llama-cpp', bootSpec: { model, ctxSize: 512, apiKey: 'generate' } },
      },
      {
        consumer: 'openai-example',
        acceptedRuntimeKinds: ['service'],
        acceptedManagementModes: ['kernel_managed'],
        acceptedProtocols: ['openai_chat_completions'],
      },
      { runId: 'example', attemptId: '1' },
      { ownerRef: 'spawned-openai-example', ttlMs: 60_000 },
    );
    console.log(`endpoint ${endpoint.baseUrl} model ${endpoint.modelIdentity}`);
    // The descriptor's auth header is a Secret: it prints [redacted] until you expose it.
    console.log(`headers ${JSON.stringify(endpoint.headers)}`);
    const auth = endpoint.headers.authorization;
    const client = new OpenAI({
      baseURL: endpoint.baseUrl,
      apiKey: auth === undefined ? 'none' : exposeSecret(auth).replace(/^Bearer /, ''),
      maxRetries: 0,
    });
    const completion = await client.chat.completions.create({
      model: endpoint.modelIdentity ?? 'default',
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_tokens: 8,
    });
    const choice = completion.choices[0];
    if (!choice) throw new Error('the server returned no choice');
    console.log(
      `completion finish_reason=${choice.finish_reason} tokens=${completion.usage?.completion_tokens}`,
    );
    console.log(`assistant: ${JSON.stringify(choice.message.content)}`);
    kernel.releaseLease(lease.leaseRef);
    console.log(`released ${lease.leaseRef}`);
  } finally {
    await kernel.close(); // stops the llama-server the kernel spawned
  }
  console.log('done');
}

main().catch((error: unknown) => {
  console.error('spawned-openai failed:', error);
  process.exitCode = 1;
});
