import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultStateDir } from '../config/load-config.js';
import { ControlClient } from '../control/control-client.js';

/** Where the CLI writes: injectable so tests can capture output. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** The process's own streams and environment. */
export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };

/** Writes a line to stdout. */
export function println(io: CliIo, text = ''): void {
  io.stdout.write(`${text}\n`);
}

/** Writes a value as pretty JSON to stdout (Secrets print `[redacted]`). */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The state directory: `--state-dir`, else `$SHIC_STATE_DIR`, else the default. */
export function stateDirOf(command: Command, io: CliIo, fallback?: string): string {
  const flag = command.optsWithGlobals().stateDir as string | undefined;
  if (flag) return resolve(flag);
  if (fallback) return fallback;
  return defaultStateDir(io.env);
}

/** Runs `fn` with a client of the daemon found through the state directory, and closes it after. */
export async function withClient<T>(
  command: Command,
  io: CliIo,
  fn: (client: ControlClient) => Promise<T>,
): Promise<T> {
  const client = await ControlClient.fromStateDir(stateDirOf(command, io));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Resolves on the first SIGINT or SIGTERM and aborts the returned signal; `dispose` removes the handlers. */
export function onStopSignal(): { signal: AbortSignal; stopped: Promise<NodeJS.Signals>; dispose(): void } {
  const controller = new AbortController();
  let resolveStopped!: (s: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((r) => {
    resolveStopped = r;
  });
  const handler = (signal: NodeJS.Signals) => {
    controller.abort();
    resolveStopped(signal);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    signal: controller.signal,
    stopped,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
