import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Options for {@link withProvisionLock}. */
export interface ProvisionLockOptions {
  /** Aborts the wait for the lock (not the work once it holds it). */
  signal?: AbortSignal;
  /** Called once when another process holds the lock and this one starts waiting. */
  onWait?: (holder: string) => void;
  /** Longest pause between two attempts, in ms. @default 1000 */
  maxIntervalMs?: number;
}

interface LockOwner {
  pid: number;
  host: string;
}

// A lock whose owner process is gone (crash, SIGKILL) must not block every later provisioner.
function ownerIsDead(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function readOwner(lockDir: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(join(lockDir, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `work` while holding an exclusive cross-process lock in `dir` (a `.provision.lock` directory, created
 * atomically with `mkdir`). Other callers wait, polling with backoff, until it is released; a lock left by a
 * dead process on this host is taken over.
 * @throws the signal's reason when aborted while waiting.
 */
export async function withProvisionLock<T>(
  dir: string,
  work: () => Promise<T>,
  options: ProvisionLockOptions = {},
): Promise<T> {
  const lockDir = join(dir, '.provision.lock');
  await mkdir(dir, { recursive: true });
  let interval = 50;
  let announced = false;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(lockDir);
    if (owner && ownerIsDead(owner)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!announced) {
      announced = true;
      options.onWait?.(owner ? `pid ${owner.pid} on ${owner.host}` : 'another process');
    }
    await pause(interval, options.signal);
    interval = Math.min(interval * 2, options.maxIntervalMs ?? 1000);
  }
  try {
    await writeFile(join(lockDir, 'owner.json'), JSON.stringify({ pid: process.pid, host: hostname() }));
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
