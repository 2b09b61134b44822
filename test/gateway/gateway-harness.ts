// A real kernel with the llama-cpp backend, a gateway over it on its own listener, and what both emitted.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import {
  createGateway,
  createKernel,
  type Gateway,
  type GatewayConfigInput,
  type GatewayEvent,
  type GatewayServer,
  type Kernel,
  type KernelEvent,
  startGatewayServer,
} from 'self-hosted-inference-core';
import { createLlamaCppBackend } from '../../backends/llama-cpp/index.js';
import { realLlamaServer } from '../support/llama-fixture.js';

export interface GatewayHarness {
  kernel: Kernel;
  gateway: Gateway;
  server: GatewayServer;
  modelPath: string;
  longModelPath: string;
  kernelEvents: KernelEvent[];
  gatewayEvents: GatewayEvent[];
  openai(options?: { apiKey?: string }): OpenAI;
  /** Live leases over every instance. */
  leaseCount(): number;
  close(): Promise<void>;
}

/**
 * Starts the harness; `deployments` receives the tiny models' paths and returns shic.yaml-style deployments.
 */
export async function startGatewayHarness(
  deployments: (models: { modelPath: string; longModelPath: string }) => Record<string, unknown>,
  config: GatewayConfigInput = {},
): Promise<GatewayHarness> {
  const { binaryPath, modelPath, longModelPath } = await realLlamaServer();
  const stateDir = await mkdtemp(path.join(tmpdir(), 'shic-gateway-'));
  const kernel = createKernel({ stateDir, backends: [createLlamaCppBackend({ binaryPath })] });
  const gateway = createGateway({ kernel, deployments: deployments({ modelPath, longModelPath }), config });
  const server = await startGatewayServer({ gateway });
  const kernelEvents: KernelEvent[] = [];
  const gatewayEvents: GatewayEvent[] = [];
  kernel.on('*', (e) => kernelEvents.push(e));
  gateway.on('*', (e) => gatewayEvents.push(e));
  return {
    kernel,
    gateway,
    server,
    modelPath,
    longModelPath,
    kernelEvents,
    gatewayEvents,
    openai: (options = {}) =>
      new OpenAI({ baseURL: server.url, apiKey: options.apiKey ?? 'unused', maxRetries: 0, timeout: 60_000 }),
    leaseCount: () => kernel.listInstances().reduce((n, i) => n + i.leaseCount, 0),
    async close() {
      await server.close(1_000);
      await kernel.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
