import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ControlClient } from '../control/control-client.js';
import { clientStateDir } from '../control/state-files.js';
import { defaultStateDir } from '../kernel/kernel-options.js';

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

/**
 * The daemon's state directory: `--state-dir`, else `$SHIC_STATE_DIR`, else the default one, else the one a
 * running `shic up` (whose config chose its own `stateDir`) pointed the default at.
 */
export function stateDirOf(command: Command, io: CliIo): string {
  const flag = command.optsWithGlobals().stateDir as string | undefined;
  if (flag) return resolve(flag);
  if (io.env.SHIC_STATE_DIR) return resolve(io.env.SHIC_STATE_DIR);
  return clientStateDir(defaultStateDir(io.env));
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
