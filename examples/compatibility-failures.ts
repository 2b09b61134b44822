// Consumer compatibility, explained. Before anything starts, the kernel holds the consumer's manifest against
// the backend's: `reason` names the first failing check (SHIC's order), `metadata.allFailures` lists every one,
// so a caller can fix them all at once. An incompatible ensureEndpoint throws `incompatible` and starts nothing.
//
//   npx tsx --conditions=shic-source examples/compatibility-failures.ts
import {
  type ConsumerManifestInput,
  createKernel,
  IncompatibleError,
  KernelError,
} from 'self-hosted-inference-core';
import { createLlamaCppBackend } from 'self-hosted-inference-core/llama-cpp';
import { createOllamaBackend } from 'self-hosted-inference-core/ollama';

async function main(): Promise<void> {
  const kernel = createKernel({ backends: [createLlamaCppBackend(), createOllamaBackend()] });
  let starts = 0;
  kernel.on('instance.starting', () => {
    starts += 1;
  });
  try {
    // Wants an attached daemon speaking embeddings, with tool calling guaranteed: llama-cpp fails three checks.
    const picky: ConsumerManifestInput = {
      consumer: 'embedding-indexer',
      acceptedRuntimeKinds: ['service'],
      acceptedManagementModes: ['externally_managed'],
      acceptedProtocols: ['openai_embeddings'],
      requiredCapabilities: { toolCalling: true },
    };
    const verdict = kernel.compatibility('llama-cpp', picky);
    console.log(`llama-cpp compatible=${verdict.compatible} reason=${verdict.reason}`);
    console.log(`missing: ${verdict.missingRequirements.join(', ')}`);
    for (const failure of verdict.metadata.allFailures) {
      console.log(`  - ${failure.reason}: ${failure.message}`);
    }

    // ensureEndpoint runs the same check first and throws; no process is spawned.
    try {
      await kernel.ensureEndpoint(
        {
          requestId: 'r1',
          targetPreference: { backend: 'llama-cpp', bootSpec: { model: './missing.gguf' } },
        },
        picky,
        { runId: 'example', attemptId: '1' },
        { ownerRef: 'compatibility-example' },
      );
      throw new Error('expected an incompatible error');
    } catch (error) {
      if (!(KernelError.isInstance(error) && error.code === 'incompatible')) throw error;
      console.log(`ensureEndpoint threw ${error.code}; instances started: ${starts}`);
      if (error instanceof IncompatibleError) console.log(`error.compatibility carries the same verdict`);
    }

    // The Ollama backend is attached (externally_managed) and streams: a chat consumer that accepts both modes
    // is compatible; an optional capability the backend does not promise becomes a warning, not a failure.
    const relaxed: ConsumerManifestInput = {
      consumer: 'chat-agent',
      acceptedRuntimeKinds: ['service'],
      acceptedManagementModes: ['kernel_managed', 'externally_managed'],
      acceptedProtocols: ['openai_chat_completions'],
      requiredCapabilities: { streaming: true },
      optionalCapabilities: { toolCalling: true },
    };
    for (const backend of ['llama-cpp', 'ollama']) {
      const ok = kernel.compatibility(backend, relaxed);
      console.log(
        `${backend} compatible=${ok.compatible} reason=${ok.reason} mode=${ok.resolvedManagementMode} warnings=${ok.warnings.length}`,
      );
    }
  } finally {
    await kernel.close();
  }
  console.log('done');
}

main().catch((error: unknown) => {
  console.error('compatibility-failures failed:', error);
  process.exitCode = 1;
});
