// Runs the real `bin/shic.js` as child processes for the CLI tests: foreground daemons started and awaited
// until their control API answers, and stopped again after each test.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { waitUntil } from '../support/wait-until.js';

/** The `shic` launcher, run from source. */
export const SHIC_BIN = join(import.meta.dirname, '../../bin/shic.js');

/** How `startShicDaemon` starts and awaits a foreground daemon. */
export interface ShicDaemonOptions {
  /** Environment of the child (added to the parent's). */
  env: Record<string, string>;
  /** State directory of the daemon; its `control.json` must appear. */
  stateDir: string;
  /** `shic health --json` against the same daemon; exit code 0 means the control API answers. */
  health: () => Promise<{ exitCode?: number }>;
  /** Every started child is pushed here, for `stopShicDaemons` in `afterEach`. */
  daemons: ResultPromise[];
  /** How long to wait for the control API, in milliseconds. */
  timeoutMs: number;
  /** Pause between health polls, in milliseconds. */
  intervalMs: number;
  /** What is started, for error messages (e.g. `shic up`). */
  label: string;
}

/**
 * Starts `node bin/shic.js ...args` and waits until its control API answers. The child is wrapped in an
 * object: a ResultPromise is thenable, so returning it bare from an async function would await its exit.
 * @throws Error when the child exits before its control API answers, or after `timeoutMs`.
 */
export async function startShicDaemon(
  args: string[],
  options: ShicDaemonOptions,
): Promise<{ child: ResultPromise }> {
  const child = execa('node', [SHIC_BIN, ...args], { env: options.env, reject: false, all: true });
  options.daemons.push(child);
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`${options.label} exited early with ${child.exitCode}`);
      return existsSync(join(options.stateDir, 'control.json')) && (await options.health()).exitCode === 0;
    },
    { timeoutMs: options.timeoutMs, intervalMs: options.intervalMs, message: `${options.label} control API` },
  );
  return { child };
}

/** SIGTERMs every daemon still running in `daemons`, awaits each exit, and empties the list. */
export async function stopShicDaemons(daemons: ResultPromise[]): Promise<void> {
  for (const child of daemons.splice(0)) {
    if (child.exitCode === null) child.kill('SIGTERM');
    await child;
  }
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
