import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DaemonRunningError, DaemonUnreachableError } from '../errors/error-catalog.js';

/** Where the daemon listens, as written to `<stateDir>/control.json`. */
export interface ControlAddress {
  /** Base URL of the control API, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Process id of the `shic up` daemon. */
  pid: number;
  /** Epoch ms the daemon started. */
  startedAt: number;
  /** Base URL of the OpenAI-compatible gateway (ends in `/v1`), when it runs. */
  gatewayUrl?: string;
}

/** The files a running daemon keeps in its state directory. */
export const STATE_FILES = {
  lock: 'shic-daemon.lock',
  address: 'control.json',
  token: 'control.token',
  /** The gateway's base URL (ends in `/v1`), one line, for scripts: `curl "$(cat gateway.url)/models"`. */
  gatewayUrl: 'gateway.url',
  /** In the default state directory: where the newest daemon with another state directory lives. */
  pointer: 'daemon-pointer.json',
} as const;

/** A fresh bearer token: 32 random bytes, base64url. */
export function createToken(): string {
  return randomBytes(32).toString('base64url');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the state directory with mode 0700 (and tightens an existing one). */
export async function ensureStateDir(stateDir: string): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await chmod(stateDir, 0o700);
}

/**
 * Takes the daemon lock of a state directory (a file holding our pid, created exclusively). A lock left by a
 * dead process is taken over.
 * @returns a function that releases the lock and removes the address and token files.
 * @throws DaemonRunningError when a live daemon holds the lock.
 */
export async function acquireDaemonLock(stateDir: string): Promise<() => Promise<void>> {
  await ensureStateDir(stateDir);
  const lockPath = join(stateDir, STATE_FILES.lock);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await rm(join(stateDir, STATE_FILES.address), { force: true });
        await rm(join(stateDir, STATE_FILES.token), { force: true });
        await rm(join(stateDir, STATE_FILES.gatewayUrl), { force: true });
        await rm(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new DaemonRunningError(
          `Another shic daemon (pid ${pid}) already runs with state directory ${stateDir}. ` +
            'Stop it first (Ctrl-C or `kill ' +
            pid +
            '`), or pass a different --state-dir.',
          { path: stateDir, details: { pid } },
        );
      }
      await rm(lockPath, { force: true });
    }
  }
  throw new DaemonRunningError(`Could not take the daemon lock in ${stateDir}; another daemon is starting.`, {
    path: stateDir,
  });
}

/** Writes the address and token files, each mode 0600. */
export async function writeControlFiles(
  stateDir: string,
  address: ControlAddress,
  token: string,
): Promise<void> {
  const tokenPath = join(stateDir, STATE_FILES.token);
  const addressPath = join(stateDir, STATE_FILES.address);
  await writeFile(tokenPath, `${token}\n`, { mode: 0o600 });
  await chmod(tokenPath, 0o600);
  await writeFile(addressPath, `${JSON.stringify(address)}\n`, { mode: 0o600 });
  await chmod(addressPath, 0o600);
  if (address.gatewayUrl) {
    await writeFile(join(stateDir, STATE_FILES.gatewayUrl), `${address.gatewayUrl}\n`, { mode: 0o600 });
  }
}

/**
 * Reads the address and token a running daemon wrote.
 * @throws DaemonUnreachableError when the files are missing or unreadable, saying how to start the daemon.
 */
export async function readControlFiles(
  stateDir: string,
): Promise<{ address: ControlAddress; token: string }> {
  try {
    const address = JSON.parse(await readFile(join(stateDir, STATE_FILES.address), 'utf8')) as ControlAddress;
    const token = (await readFile(join(stateDir, STATE_FILES.token), 'utf8')).trim();
    if (typeof address.url !== 'string' || token.length === 0) throw new Error('incomplete control files');
    return { address, token };
  } catch (error) {
    throw new DaemonUnreachableError(
      `No shic daemon found in ${stateDir} (${(error as Error).message}). Start one with \`shic up shic.yaml\`, ` +
        'or point --state-dir / SHIC_STATE_DIR at the daemon’s state directory.',
      { path: stateDir, cause: error },
    );
  }
}

/** What `shic up` leaves in the default state directory when its own state directory is another one. */
export interface DaemonPointer {
  stateDir: string;
  pid: number;
}

/**
 * Points the default state directory at a daemon's own (`shic up shic.yaml` whose config sets `stateDir`), so
 * commands run without `--state-dir` find the daemon. The newest daemon wins.
 * @returns a function that removes the pointer if it still names this daemon.
 */
export async function writeDaemonPointer(defaultDir: string, stateDir: string): Promise<() => Promise<void>> {
  await ensureStateDir(defaultDir);
  const file = join(defaultDir, STATE_FILES.pointer);
  const pointer: DaemonPointer = { stateDir, pid: process.pid };
  await writeFile(file, `${JSON.stringify(pointer)}\n`, { mode: 0o600 });
  return async () => {
    if (readDaemonPointer(defaultDir)?.pid === process.pid) await rm(file, { force: true });
  };
}

/** The state directory a live daemon's pointer names, or undefined (no pointer, or its daemon is gone). */
export function readDaemonPointer(defaultDir: string): DaemonPointer | undefined {
  try {
    const pointer = JSON.parse(readFileSync(join(defaultDir, STATE_FILES.pointer), 'utf8')) as DaemonPointer;
    return typeof pointer.stateDir === 'string' && Number.isInteger(pointer.pid) && isAlive(pointer.pid)
      ? pointer
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a client finds the daemon: `explicit` (`--state-dir`, `$SHIC_STATE_DIR`) when given; else the default
 * directory when a daemon wrote its address there; else the directory a live daemon's pointer names; else the
 * default (whose "no daemon" error then says how to start one).
 */
export function clientStateDir(defaultDir: string, explicit?: string): string {
  if (explicit) return explicit;
  if (existsSync(join(defaultDir, STATE_FILES.address))) return defaultDir;
  return readDaemonPointer(defaultDir)?.stateDir ?? defaultDir;
}
