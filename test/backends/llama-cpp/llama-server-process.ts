// Spawns a real llama-server (from the provisioning fixture) for probe tests, and a tiny HTTP stand-in.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import { realLlamaServer } from '../../support/llama-fixture.js';

/** A running llama-server and every output line it printed so far. */
export interface LlamaServerProcess {
  url: string;
  port: number;
  lines: string[];
  child: ResultPromise;
  kill(): Promise<void>;
}

/** Starts the real llama-server on the tiny model with extra flags and environment. */
export async function startLlamaServer(
  extraArgs: string[] = [],
  env: Record<string, string> = {},
  port?: number,
): Promise<LlamaServerProcess> {
  const { binaryPath, modelPath } = await realLlamaServer();
  const chosen = port ?? (await getPort({ host: '127.0.0.1' }));
  const child = execa(
    binaryPath,
    ['--model', modelPath, '--alias', 'tiny', '--host', '127.0.0.1', '--port', String(chosen), ...extraArgs],
    { env, reject: false, stdin: 'ignore', lines: false, buffer: false },
  );
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts);
    });
    stream?.on('end', () => {
      if (rest) lines.push(rest);
    });
  }
  return {
    url: `http://127.0.0.1:${chosen}`,
    port: chosen,
    lines,
    child,
    async kill() {
      child.kill('SIGKILL');
      await child;
    },
  };
}

/** A stand-in for a llama-server that answers each route with a fixed status and body. */
export async function startLlamaStandIn(
  routes: Record<string, { status: number; body: string }>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const route = routes[req.url ?? ''] ?? { status: 404, body: '{"error":"not found"}' };
    res.writeHead(route.status, { 'content-type': 'application/json' }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
