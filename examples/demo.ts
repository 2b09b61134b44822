// The one-command demo (`npm run demo`): the kernel spawns a real llama-server for a tiny model, leases its
// endpoint to a consumer that requires streaming, streams a chat completion through the `openai` client, releases
// the lease and watches the instance idle out. Every step prints what happened; slow steps print progress.
import { statSync } from 'node:fs';
import OpenAI from 'openai';
import { createKernel, exposeSecret, type KernelEvent } from 'self-hosted-inference-core';
import {
  createLlamaCppBackend,
  type ProvisionProgress,
  provisionLlamaServer,
  vocabModelPath,
} from 'self-hosted-inference-core/llama-cpp';
import { ensureTinyLlamaModel } from 'self-hosted-inference-core/testing';

const IDLE_SHUTDOWN_MS = 2_000;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(7);
const say = (text: string) => console.log(`${elapsed()}  ${text}`);
const step = (n: number, text: string) => console.log(`\n${elapsed()}  [${n}/6] ${text}`);

// Build progress arrives per compiled file: print phase changes and every 10 %, not every line.
function progressPrinter(): (p: ProvisionProgress) => void {
  let lastPhase = '';
  let lastPercent = -10;
  return (p) => {
    if (p.phase === 'resolve' || p.phase === 'done') return;
    const percent = p.percent ?? -1;
    if (p.phase === lastPhase && percent >= 0 && percent < lastPercent + 10 && percent < 100) return;
    if (p.phase !== lastPhase) lastPercent = -10;
    lastPhase = p.phase;
    if (percent >= 0) lastPercent = percent;
    say(`      ${p.phase}${percent >= 0 ? ` ${String(percent).padStart(3)}%` : ''}  ${p.message}`);
  };
}

// One human-readable line per kernel event; the demo's narration of what the kernel does.
function describeEvent(e: KernelEvent): string | undefined {
  switch (e.type) {
    case 'instance.starting':
      return `instance.starting   ${e.instanceId} attempt ${e.attempt}${e.port ? ` on port ${e.port}` : ''}`;
    case 'instance.spawned':
      return `instance.spawned    llama-server pid ${e.pid} (spawn took ${e.spawnMs} ms)`;
    case 'instance.progress':
      return `instance.progress   ${e.message}${e.percent === undefined ? '' : ` (${e.percent}%)`}`;
    case 'instance.ready':
      return `instance.ready      ready in ${e.readyMs} ms`;
    case 'instance.exited':
      return `instance.exited     pid ${e.pid ?? '?'} ${e.expected ? 'as asked' : 'UNEXPECTEDLY'} (${e.signal ?? `exit code ${e.exitCode}`})`;
    case 'instance.stopped':
      return `instance.stopped    reason: ${e.reason}, uptime ${e.uptimeMs ?? 0} ms`;
    case 'lease.acquired':
      return `lease.acquired      ${e.leaseRef} for ${e.ownerRef}, ttl ${e.ttlMs} ms`;
    case 'lease.released':
      return `lease.released      ${e.leaseRef} after ${e.heldMs} ms`;
    case 'probe.failed':
      return undefined;
    default:
      return e.type;
  }
}

async function main(): Promise<void> {
  console.log('self-hosted-inference-core demo: a real llama-server, leased through the kernel\n');

  step(
    1,
    'llama-server binary (built once from node-llama-cpp@3.21.1, ~4 min on 2 cores; cached afterwards)',
  );
  const onProgress = progressPrinter();
  const server = await provisionLlamaServer({ onProgress });
  say(`      using ${server.binaryPath} (${server.source}, version ${server.version})`);

  step(2, 'tiny random-weight llama model (GGUF)');
  const modelPath = await ensureTinyLlamaModel({ vocabPath: await vocabModelPath({ onProgress }) });
  say(`      ${modelPath} (${(statSync(modelPath).size / 1e6).toFixed(1)} MB)`);

  step(3, 'kernel with the llama-cpp backend');
  const kernel = createKernel({ backends: [createLlamaCppBackend({ binaryPath: server.binaryPath })] });
  const eventLog = kernel.on('*', (event) => {
    const line = describeEvent(event);
    if (line) say(`      event  ${line}`);
  });
  const consumer = {
    consumer: 'demo-chat',
    acceptedRuntimeKinds: ['service' as const],
    acceptedManagementModes: ['kernel_managed' as const],
    acceptedProtocols: ['openai_chat_completions'],
    requiredCapabilities: { streaming: true },
  };
  try {
    const precheck = kernel.compatibility('llama-cpp', consumer);
    say(
      `      consumer "demo-chat" requires streaming → ${precheck.compatible ? 'compatible' : 'INCOMPATIBLE'} (${precheck.reason})`,
    );

    step(4, `ensureEndpoint: spawn, wait for /health, lease (idleShutdownMs ${IDLE_SHUTDOWN_MS})`);
    const { endpoint, compatibility, lease } = await kernel.ensureEndpoint(
      {
        requestId: 'demo-request-1',
        targetPreference: {
          backend: 'llama-cpp',
          bootSpec: { model: modelPath, ctxSize: 512, apiKey: 'generate', idleShutdownMs: IDLE_SHUTDOWN_MS },
        },
      },
      consumer,
      { runId: 'demo-run', attemptId: 'attempt-1' },
      { ownerRef: 'demo', ttlMs: 60_000 },
    );
    say('      endpoint descriptor (secrets redacted):');
    for (const line of JSON.stringify(endpoint, null, 2).split('\n')) console.log(`           ${line}`);
    say(
      `      compatibility: ${compatibility.compatible ? 'compatible' : 'incompatible'}, ${compatibility.reason}, protocol ${compatibility.resolvedProtocol}${compatibility.warnings.length ? `, warnings: ${compatibility.warnings.join('; ')}` : ''}`,
    );
    say(`      lease ${lease.leaseRef}, expires ${new Date(lease.expiresAt).toISOString()}`);

    step(5, 'streaming chat completion through the openai client (random weights: expect nonsense)');
    const auth = endpoint.headers.authorization;
    const client = new OpenAI({
      baseURL: endpoint.baseUrl,
      apiKey: auth === undefined ? 'no-key' : exposeSecret(auth).replace(/^Bearer /, ''),
      maxRetries: 0,
    });
    const stream = await client.chat.completions.create({
      model: endpoint.modelIdentity ?? 'default',
      messages: [{ role: 'user', content: 'Tell me a story about a small llama.' }],
      max_tokens: 24,
      stream: true,
    });
    process.stdout.write(`${elapsed()}      assistant: `);
    let chunks = 0;
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta.content;
      if (text) {
        chunks += 1;
        process.stdout.write(text);
      }
    }
    process.stdout.write('\n');
    say(`      ${chunks} streamed chunks`);

    step(6, `release the lease; the idle instance stops after ${IDLE_SHUTDOWN_MS} ms`);
    const instanceId = endpoint.healthRef;
    const pid = kernel.lookupInstance(instanceId)?.pid ?? 0;
    const stopped = new Promise<void>((resolve) => {
      const off = kernel.on('instance.stopped', (e) => {
        if (e.instanceId === instanceId) {
          off();
          resolve();
        }
      });
    });
    await kernel.releaseLease(lease.leaseRef);
    say(
      `      leases on ${instanceId}: ${kernel.lookupInstance(instanceId)?.leaseCount ?? 0}, waiting for the idle stop…`,
    );
    await stopped;
    const alive = (() => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    })();
    say(
      `      llama-server pid ${pid}: ${alive ? 'still running?!' : 'gone'}; instances held: ${kernel.listInstances().length}`,
    );
  } finally {
    eventLog();
    await kernel.close();
  }
  say('kernel closed. Done.');
}

main().catch((error: unknown) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  if (error && typeof error === 'object' && 'toJSON' in error) console.error(JSON.stringify(error, null, 2));
  process.exitCode = 1;
});
