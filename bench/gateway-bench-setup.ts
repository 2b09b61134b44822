// A kernel + gateway over the real llama-server for the gateway benchmarks, with the deployment warmed up.
import { createLlamaCppBackend } from '../backends/llama-cpp/index.js';
import { createGateway, type Gateway } from '../src/gateway/create-gateway.js';
import { type GatewayServer, startGatewayServer } from '../src/gateway/gateway-server.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { realLlamaServer } from '../test/support/llama-fixture.js';
import { benchKernel } from './bench-kernel.js';
import type { BenchContext } from './benchmark.js';

export interface GatewayBench {
  kernel: Kernel;
  gateway: Gateway;
  server: GatewayServer;
  binaryPath: string;
  modelPath: string;
}

/** One deployment `tiny` (the tiny model with `bootSpec`), served by a gateway on a free port. */
export async function startGatewayBench(
  context: BenchContext,
  bootSpec: Record<string, unknown>,
): Promise<GatewayBench> {
  const { binaryPath, modelPath } = await realLlamaServer({ onProgress: () => {} });
  const kernel = await benchKernel(context, [createLlamaCppBackend({ binaryPath })]);
  const gateway = createGateway({
    kernel,
    deployments: { tiny: { backend: 'llama-cpp', bootSpec: { model: modelPath, ...bootSpec } } },
    config: { recentRequests: 100 },
  });
  const server = await startGatewayServer({ gateway });
  context.defer(() => server.close(0));
  return { kernel, gateway, server, binaryPath, modelPath };
}

/** The `host:port` base URL of the deployment's running llama-server. */
export function upstreamOf(kernel: Kernel): string {
  const instance = kernel.listInstances().find((i) => i.state === 'ready');
  if (!instance?.port) throw new Error('no ready llama-server behind the gateway');
  return `http://127.0.0.1:${instance.port}`;
}
