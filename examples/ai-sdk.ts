// The endpoint descriptor with the Vercel AI SDK: `@ai-sdk/openai-compatible` takes the descriptor's baseUrl,
// headers and model id as they are; `generateText` and `streamText` then work unchanged.
//
//   npx tsx --conditions=shic-source examples/ai-sdk.ts
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, streamText } from 'ai';
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
        requestId: 'ai-sdk-1',
        targetPreference: { backend: 'llama-cpp', bootSpec: { model, ctxSize: 512, apiKey: 'generate' } },
      },
      {
        consumer: 'ai-sdk-example',
        acceptedRuntimeKinds: ['service'],
        acceptedManagementModes: ['kernel_managed', 'externally_managed'],
        acceptedProtocols: ['openai_chat_completions'],
        requiredCapabilities: { streaming: true },
      },
      { runId: 'example', attemptId: '1' },
      { ownerRef: 'ai-sdk-example', ttlMs: 60_000 },
    );
    // Header values may be Secrets; expose them only here, where the HTTP client needs them.
    const headers = Object.fromEntries(
      Object.entries(endpoint.headers).map(([name, value]) => [name, exposeSecret(value)]),
    );
    const provider = createOpenAICompatible({
      name: endpoint.providerIdentity,
      baseURL: endpoint.baseUrl,
      headers,
    });
    const languageModel = provider.chatModel(endpoint.modelIdentity ?? 'default');

    const generated = await generateText({
      model: languageModel,
      prompt: 'Say hello.',
      maxOutputTokens: 8,
    });
    console.log(
      `generateText finishReason=${generated.finishReason} outputTokens=${generated.usage.outputTokens}`,
    );

    const streamed = streamText({
      model: languageModel,
      prompt: 'Count to three.',
      maxOutputTokens: 8,
    });
    let parts = 0;
    for await (const _delta of streamed.textStream) parts += 1;
    console.log(`streamText parts=${parts} finishReason=${await streamed.finishReason}`);
    kernel.releaseLease(lease.leaseRef);
  } finally {
    await kernel.close();
  }
  console.log('done');
}

main().catch((error: unknown) => {
  console.error('ai-sdk failed:', error);
  process.exitCode = 1;
});
