// Runs test/fixtures/ollama-stand-in.mjs as a real child process and talks to its test hooks.
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

export const OLLAMA_STAND_IN = fileURLToPath(new URL('../../fixtures/ollama-stand-in.mjs', import.meta.url));

/** One request the stand-in saw. */
export interface StandInRequest {
  method: string;
  path: string;
  body: Record<string, unknown> | string;
  at: number;
}

/** A running Ollama stand-in. */
export interface OllamaStandIn {
  url: string;
  port: number;
  pid: number;
  /** Every request it received so far (its `GET /__requests`). */
  requests(): Promise<StandInRequest[]>;
  /** SIGKILLs it (a daemon that dies) and waits for the exit. Idempotent. */
  kill(): Promise<void>;
}

/** Starts the stand-in with CLI flags (e.g. `['--models', 'tiny']`) and waits until it listens. */
export async function startOllamaStandIn(flags: string[] = []): Promise<OllamaStandIn> {
  const child: ResultPromise = execa(process.execPath, [OLLAMA_STAND_IN, ...flags], {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'inherit',
    reject: false,
  });
  const lines = createInterface({ input: child.stdout! });
  const listening = await new Promise<{ port: number; url: string }>((resolve, reject) => {
    lines.on('line', (line) => {
      const event = JSON.parse(line) as { event: string; port: number; url: string };
      if (event.event === 'listening') resolve(event);
    });
    child.then((r) => reject(new Error(`ollama stand-in exited before listening: ${r.exitCode}`)));
  });
  lines.close();
  let exited = false;
  child.then(() => {
    exited = true;
  });
  return {
    ...listening,
    pid: child.pid!,
    async requests() {
      const response = await fetch(`${listening.url}/__requests`);
      return (await response.json()) as StandInRequest[];
    },
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await child;
    },
  };
}
