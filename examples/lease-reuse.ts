// Lease reuse: callers asking for the same boot spec share one llama-server. Concurrent ensures start it once
// (single-flight), each caller holds its own lease, renew extends one, and when the last lease goes the
// instance stops after `idleShutdownMs`.
//
//   npx tsx --conditions=shic-source examples/lease-reuse.ts
import { createKernel, type EndpointRequestInput } from 'self-hosted-inference-core';
import {
  createLlamaCppBackend,
  provisionLlamaServer,
  vocabModelPath,
} from 'self-hosted-inference-core/llama-cpp';
import { ensureTinyLlamaModel } from 'self-hosted-inference-core/testing';

const consumer = {
  consumer: 'lease-example',
  acceptedRuntimeKinds: ['service' as const],
  acceptedManagementModes: ['kernel_managed' as const],
  acceptedProtocols: ['openai_chat_completions'],
};

async function main(): Promise<void> {
  const { binaryPath } = await provisionLlamaServer();
  const model =
    process.env.SHIC_EXAMPLE_MODEL ?? (await ensureTinyLlamaModel({ vocabPath: await vocabModelPath() }));
  const kernel = createKernel({ backends: [createLlamaCppBackend({ binaryPath })] });
  let starts = 0;
  kernel.on('instance.starting', () => {
    starts += 1;
  });
  const request = (requestId: string): EndpointRequestInput => ({
    requestId,
    targetPreference: { backend: 'llama-cpp', bootSpec: { model, ctxSize: 512, idleShutdownMs: 1_000 } },
  });
  const context = { runId: 'lease-example', attemptId: '1' };
  try {
    // Two workers ask at the same time: one start, two leases on one instance.
    const [a, b] = await Promise.all([
      kernel.ensureEndpoint(request('worker-a'), consumer, context, { ownerRef: 'worker-a', ttlMs: 30_000 }),
      kernel.ensureEndpoint(request('worker-b'), consumer, context, { ownerRef: 'worker-b', ttlMs: 30_000 }),
    ]);
    const instanceId = a.endpoint.healthRef;
    console.log(`same instance: ${instanceId === b.endpoint.healthRef} (${instanceId}), starts: ${starts}`);
    console.log(
      `leases: ${kernel
        .listLeases(instanceId)
        .map((l) => l.ownerRef)
        .sort()
        .join(', ')}`,
    );

    // A third, later caller reuses the warm instance without planning or probing.
    const c = await kernel.ensureEndpoint(request('worker-c'), consumer, context, { ownerRef: 'worker-c' });
    console.log(`warm ensure reused it: ${c.endpoint.healthRef === instanceId}, starts: ${starts}`);

    // Subscribe before releasing: with no lease left the instance stops after idleShutdownMs (1 s here).
    const stopped = new Promise<string>((resolve) => {
      const off = kernel.on('instance.stopped', (event) => {
        if (event.instanceId !== instanceId) return;
        off();
        resolve(event.reason);
      });
    });
    // Renew extends a lease from now; releasing twice is harmless.
    const renewed = kernel.renewLease(a.lease.leaseRef, 120_000);
    console.log(`renewed ${renewed.leaseRef} ttl ${renewed.ttlMs} ms`);
    for (const { lease } of [a, b, c]) kernel.releaseLease(lease.leaseRef);
    console.log(`release again -> ${kernel.releaseLease(a.lease.leaseRef)} (no-op)`);

    console.log(`instance stopped, reason: ${await stopped}`);
  } finally {
    await kernel.close();
  }
  console.log('done');
}

main().catch((error: unknown) => {
  console.error('lease-reuse failed:', error);
  process.exitCode = 1;
});
