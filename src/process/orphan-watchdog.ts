import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import pino from 'pino';
import { SpawnFailedError } from '../errors/error-catalog.js';
import { createOwnerMarker } from './owner-marker.js';
import { clockTicksPerSecond, readProcessStartTime } from './proc-info.js';

/** Options of {@link OrphanWatchdog}. */
export interface OrphanWatchdogOptions {
  /** Grace the watchdog gives watched groups between SIGTERM and SIGKILL once the kernel is gone, ms. @default 3000 */
  graceMs?: number;
  /**
   * Adoption (guides/durable-state.md): when the kernel ends without stopping its servers (a crash, or a planned
   * handover), wait this long for a successor to adopt them before killing them, ms. @default 0 (kill at once)
   */
  keepGraceMs?: number;
  /** Tag of the owner marker (`keep-…` markers are only ever reaped by a kernel on the same state directory). */
  ownerTag?: string;
  logger?: pino.Logger;
}

const scriptPath = fileURLToPath(new URL('./watchdog-process.mjs', import.meta.url));

// Its own group and session, so a Ctrl-C or SIGKILL aimed at the kernel's group does not reach it.
function launchWatchdog(args: string[]) {
  return execa(process.execPath, [scriptPath, ...args], {
    detached: true,
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'ignore',
    buffer: false,
    reject: false,
    cleanup: false,
    cwd: '/',
    extendEnv: false,
    env: { PATH: process.env.PATH ?? '' },
  });
}

type WatchdogChild = ReturnType<typeof launchWatchdog>;

/**
 * Makes spawned process groups die with the kernel, even when the kernel is SIGKILLed (no exit handler
 * runs then). One small Node process per kernel, in its own process group, holds the read end of a pipe
 * whose write end only the kernel has; the kernel writes `watch <pgid> <startTime>` / `unwatch <pgid>`
 * lines. When the pipe reaches EOF — the kernel died, however — the watchdog SIGTERMs every watched group,
 * waits `graceMs`, SIGKILLs survivors whose start time still matches, and exits. It also kills every process
 * whose environment carries this watchdog's {@link OrphanWatchdog.ownerMarker} (Linux, `/proc/<pid>/environ`):
 * that covers a server exec'd right before a SIGKILL, before its `watch` line could be written.
 * Its handles are unref'd: it never keeps the kernel's event loop alive.
 */
export class OrphanWatchdog {
  readonly graceMs: number;
  readonly keepGraceMs: number;
  /**
   * `SHIC_OWNER` value (`<kernelPid>:<kernelStartTime>:<tag>`) that `spawnProcess` puts in the environment of
   * every process it starts under this watchdog; unique per watchdog, so closing one kernel never touches
   * another kernel's processes in the same Node process.
   */
  readonly ownerMarker: string;
  readonly #logger: pino.Logger;
  #child: WatchdogChild | undefined;
  #starting: Promise<void> | undefined;
  #watched = new Map<number, number>();
  #closed = false;
  #restarts = 0;

  constructor(options: OrphanWatchdogOptions = {}) {
    this.graceMs = options.graceMs ?? 3000;
    this.keepGraceMs = options.keepGraceMs ?? 0;
    this.ownerMarker = createOwnerMarker(options.ownerTag);
    this.#logger = options.logger ?? pino({ level: 'silent' });
  }

  /** Pid of the watchdog process, or undefined when it is not running. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Process groups currently watched (pgid → leader start time, epoch ms). */
  get watched(): ReadonlyMap<number, number> {
    return this.#watched;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Starts the watchdog process now (otherwise the first `watch` does). Idempotent. */
  start(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#child !== undefined) return Promise.resolve();
    this.#starting ??= this.#spawn().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #spawn(): Promise<void> {
    if (!existsSync(scriptPath)) {
      // A build that did not copy the plain-JS watchdog next to this module (tsc does not copy .mjs files).
      throw new SpawnFailedError(
        `The orphan watchdog script ${scriptPath} is missing; copy src/process/watchdog-process.mjs next to orphan-watchdog.js. Nothing was spawned.`,
        { path: scriptPath },
      );
    }
    const child = launchWatchdog([
      '--kernel-pid',
      String(process.pid),
      '--grace-ms',
      String(this.graceMs),
      '--clk-tck',
      String(clockTicksPerSecond()),
      '--owner',
      this.ownerMarker,
      '--keep-grace-ms',
      String(this.keepGraceMs),
    ]);
    if (child.pid === undefined) {
      const result = await child;
      this.#logger.error({ err: result }, 'orphan watchdog failed to start');
      throw new SpawnFailedError(
        `Could not start the orphan watchdog (${process.execPath} ${scriptPath}): ${result.shortMessage}. Nothing was spawned.`,
        { path: scriptPath, cause: result.cause ?? result },
      );
    }
    this.#child = child;
    child.stdin.on('error', () => {});
    child.unref();
    unrefStream(child.stdin);
    this.#logger.debug({ watchdogPid: child.pid }, 'orphan watchdog started');
    child.then((result) => {
      if (this.#child === child) this.#child = undefined;
      if (this.#closed) return;
      this.#logger.warn({ exitCode: result.exitCode, signal: result.signal }, 'orphan watchdog exited');
      // Someone killed it: bring it back (bounded) so the groups stay covered.
      if (this.#watched.size > 0 && this.#restarts < 5) {
        this.#restarts += 1;
        this.#resendAll().catch((err) => this.#logger.error({ err }, 'orphan watchdog restart failed'));
      }
    });
    // Groups registered before a restart.
    if (this.#watched.size > 0)
      await this.#write([...this.#watched].map(([g, t]) => `watch ${g} ${t}\n`).join(''));
  }

  async #resendAll(): Promise<void> {
    await this.start();
  }

  /**
   * Watches process group `pgid` whose leader started at `startTime` (epoch ms; read from /proc when omitted).
   * Resolves once the line is in the pipe, so a kernel killed right after still covers the group.
   */
  async watch(pgid: number, startTime?: number): Promise<void> {
    if (this.#closed) return;
    const started = startTime ?? readProcessStartTime(pgid);
    if (started === null) return;
    this.#watched.set(pgid, started);
    if (this.#child === undefined) {
      await this.start();
      return;
    }
    await this.#write(`watch ${pgid} ${started}\n`);
  }

  /** Stops watching `pgid` (it was stopped, or its group is gone). */
  async unwatch(pgid: number): Promise<void> {
    if (!this.#watched.delete(pgid) || this.#child === undefined) return;
    await this.#write(`unwatch ${pgid}\n`);
  }

  #write(text: string): Promise<void> {
    const stdin = this.#child?.stdin;
    if (stdin === undefined || stdin.destroyed || !stdin.writable) return Promise.resolve();
    return new Promise((resolve) => {
      stdin.write(text, () => resolve());
    });
  }

  /**
   * Ends the watchdog: closes the pipe (with `keep`, the watchdog waits `keepGraceMs` for a successor to adopt the
   * servers, and this call returns at once), which makes it stop any group still watched and any process still
   * carrying its owner marker (there should be none after the kernel stopped its instances) and exit. Waits for it up to `graceMs` + 2 s. Idempotent.
   */
  async close(options: { keep?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#starting?.catch(() => {});
    const child = this.#child;
    if (child === undefined) return;
    const keep = options.keep === true && this.keepGraceMs > 0;
    await this.#write(keep ? 'mode keep\n' : 'mode now\n');
    child.stdin.end();
    if (keep) {
      // It outlives this kernel by design: it waits for a successor, then exits on its own.
      this.#child = undefined;
      this.#watched.clear();
      return;
    }
    child.ref();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.graceMs + 2000);
    });
    await Promise.race([child.then(() => {}), timedOut]);
    clearTimeout(timer);
    if (this.#child === child) {
      child.kill('SIGKILL');
      this.#child = undefined;
    }
    this.#watched.clear();
  }
}

function unrefStream(stream: unknown): void {
  const s = stream as { unref?: () => void } | null;
  s?.unref?.();
}
