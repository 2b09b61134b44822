// A real llama-server on the tiny model, as the upstream an Ollama stand-in daemon forwards /v1 to.
import { execa } from 'execa';
import getPort from 'get-port';
import { realLlamaServer } from './llama-fixture.js';
import { waitForHealth } from './wait-for-health.js';

/** A running upstream llama-server. */
export interface LlamaUpstream {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** SIGKILLs the server and waits for it to exit. */
  kill(): Promise<void>;
}

/**
 * Starts the real llama-server (output ignored) on a free port with `extraArgs`, and waits up to 60 s for
 * its /health (model loading is slow on a shared machine).
 */
export async function startLlamaUpstream(extraArgs: string[] = []): Promise<LlamaUpstream> {
  const { binaryPath, modelPath } = await realLlamaServer();
  const port = await getPort();
  const child = execa(
    binaryPath,
    ['--model', modelPath, '--host', '127.0.0.1', '--port', String(port), ...extraArgs],
    { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', reject: false },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, { timeoutMs: 60_000, message: 'llama-server /health' });
  } catch (error) {
    child.kill('SIGKILL');
    await child;
    throw error;
  }
  return {
    url,
    async kill() {
      child.kill('SIGKILL');
      await child;
    },
  };
}
