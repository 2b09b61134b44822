// Helpers for the kernel-crash test: a kernel in a child process whose descendants are tracked through
// /proc while it runs (so their process groups are known after it dies), and orphan accounting.
import { readFileSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { allProcesses, descendantsOf, isRunning, roleOf } from '../../support/process-census.js';

/** What was seen under a kernel process while it ran. */
export interface TrackedTree {
  /** Process groups led by a server the kernel spawned (stand-in or llama-server in its own group). */
  serverGroups: Set<number>;
  /** `SHIC_OWNER` in each server group leader's environment when first seen (null: none). */
  serverOwners: Map<number, string | null>;
  watchdogs: Set<number>;
  /** Polls once now (call it right before a kill). */
  poll(): void;
  /** Stops the background polling. */
  stop(): void;
}

/** Polls the descendants of `rootPid` every 20 ms and remembers servers' groups and watchdogs. */
export function trackTree(rootPid: number): TrackedTree {
  const poll = () => {
    for (const p of descendantsOf(rootPid)) {
      const role = roleOf(p);
      if (role === 'watchdog') tree.watchdogs.add(p.pid);
      // Spawned servers lead their own group; a preflight `llama-server --version` runs in the kernel's.
      else if ((role === 'stand-in' || role === 'llama-server') && p.pgid === p.pid) {
        tree.serverGroups.add(p.pgid);
        if (!tree.serverOwners.has(p.pid)) tree.serverOwners.set(p.pid, ownerMarkerOf(p.pid));
      }
    }
  };
  const tree: TrackedTree = {
    serverGroups: new Set(),
    serverOwners: new Map(),
    watchdogs: new Set(),
    poll,
    stop: () => clearInterval(timer),
  };
  poll();
  const timer = setInterval(poll, 20);
  return tree;
}

/** The `SHIC_OWNER` variable a process was started with (read from /proc, independently of the kernel). */
export function ownerMarkerOf(pid: number): string | null {
  try {
    const entry = readFileSync(`/proc/${pid}/environ`, 'latin1')
      .split('\0')
      .find((e) => e.startsWith('SHIC_OWNER='));
    return entry === undefined ? null : entry.slice('SHIC_OWNER='.length);
  } catch {
    return null;
  }
}

/** Running processes that belong to the run: argv carries `marker`, or they sit in a tracked group. */
export function survivors(marker: string, groups: Set<number>): Array<{ pid: number; argv: string }> {
  return allProcesses()
    .filter((p) => p.state !== 'Z' && p.state !== 'X')
    .filter((p) => p.argv.some((a) => a.includes(marker)) || groups.has(p.pgid))
    .filter((p) => p.pid !== process.pid && isRunning(p.pid))
    .map((p) => ({ pid: p.pid, argv: p.argv.join(' ').slice(0, 160) }));
}

/** A child process whose stdout is read line by line. */
export interface LineChild {
  child: ResultPromise;
  /** Lines so far (stdout and stderr interleaved, in arrival order). */
  lines: string[];
  /** Resolves with the line count once `predicate` matched a line (checked on every new line). */
  waitForLine(predicate: (line: string, index: number) => boolean, timeoutMs?: number): Promise<number>;
}

/** Starts `args` under node with its output split into lines. */
export function startLineChild(args: string[], env: NodeJS.ProcessEnv = {}): LineChild {
  const child = execa(process.execPath, args, {
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    env,
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  const split = (stream: NodeJS.ReadableStream) => {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl !== -1) {
        lines.push(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
      for (const listener of listeners) listener();
    });
  };
  split(child.stdout!);
  split(child.stderr!);
  return {
    child,
    lines,
    waitForLine(predicate, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const done = (error?: Error) => {
          listeners.delete(check);
          clearTimeout(timer);
          if (error) reject(error);
          else resolve(lines.length);
        };
        const check = () => {
          if (lines.some(predicate)) done();
          else if (child.exitCode !== null || child.signalCode !== null)
            done(
              new Error(`child exited before the expected line; last lines:\n${lines.slice(-15).join('\n')}`),
            );
        };
        listeners.add(check);
        void child.then(check);
        timer = setTimeout(
          () =>
            done(
              new Error(
                `no matching line within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`,
              ),
            ),
          timeoutMs,
        );
        check();
      });
    },
  };
}
