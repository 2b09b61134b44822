// Runs test/fixtures/mlx-stand-in.mjs as a real child process and reads its request log.
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import { waitForHealth } from '../../support/wait-for-health.js';

export const MLX_STAND_IN = fileURLToPath(new URL('../../fixtures/mlx-stand-in.mjs', import.meta.url));

/** What the stand-in recorded: when it started, when its "model" loaded, and every request with its status. */
export interface MlxStandInLog {
  startedAt: number;
  loadedAt: number;
  requests: Array<{ method: string; path: string; status: number; at: number }>;
}

/** Reads the stand-in's request log. */
export async function mlxStandInLog(origin: string): Promise<MlxStandInLog> {
  return (await (await fetch(`${origin}/__requests`)).json()) as MlxStandInLog;
}

/** Starts the stand-in directly (no kernel) and waits until its HTTP server answers. */
export async function startMlxStandIn(
  flags: string[] = [],
): Promise<{ origin: string; port: number; kill(): Promise<void> }> {
  const port = await getPort();
  const child: ResultPromise = execa(
    process.execPath,
    [MLX_STAND_IN, '--model', 'mlx-community/tiny', '--host', '127.0.0.1', '--port', String(port), ...flags],
    { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', reject: false },
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitForHealth(origin, { message: 'the mlx stand-in' });
  return {
    origin,
    port,
    async kill() {
      child.kill('SIGKILL');
      await child;
    },
  };
}
