// Helpers for the process-layer tests: read /proc directly (independently of the code under test) and
// wait on conditions instead of sleeping.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Path of the stand-in inference server fixture. */
export const standInServer = fileURLToPath(new URL('../fixtures/stand-in-server.mjs', import.meta.url));

/** Polls `check` until it returns a truthy value, or throws after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

function stat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** True when /proc/<pid> exists and the process is not a zombie. */
export function alive(pid: number): boolean {
  const state = stat(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Live (non-zombie) children of `ppid`, found by scanning /proc. */
export function childrenOf(ppid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      const fields = stat(pid);
      return fields !== null && Number(fields[1]) === ppid && fields[0] !== 'Z';
    });
}

/** SIGKILLs a pid if it is still there (test cleanup); never throws. */
export function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

/** SIGKILLs a whole process group if it is still there (test cleanup); never throws. */
export function killGroupQuietly(pgid: number | undefined): void {
  if (pgid === undefined || pgid <= 1) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {}
}

/** Path of the kernel-child fixture (a stand-in kernel that spawns two stand-in servers). */
export const kernelChild = fileURLToPath(new URL('../fixtures/kernel-child.ts', import.meta.url));

/** What kernel-child prints once its two stand-in servers are registered. */
export interface KernelChildInfo {
  pids: number[];
  grandchildren: number[];
  watchdogPid: number | null;
  kernelPid: number;
}
