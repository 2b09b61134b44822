import { closeSync, fstatSync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { execa, type Options } from 'execa';
import pino from 'pino';
import { SpawnFailedError } from '../errors/error-catalog.js';
import { FileTail } from './file-tail.js';
import { LineSplitter } from './line-splitter.js';
import { LogRing } from './log-ring.js';
import { ManagedChildProcess } from './managed-child-process.js';
import type { OrphanWatchdog } from './orphan-watchdog.js';
import { createOwnerMarker, OWNER_ENV } from './owner-marker.js';
import { readProcessStartTime } from './proc-info.js';
import type { ProcessRecords } from './process-records.js';
import { resolveCommand } from './resolve-command.js';

/** What to run and where its output goes. */
export interface SpawnOptions {
  /** Program name (searched on `PATH`) or path (relative ones against `cwd`). */
  command: string;
  /** Arguments, passed as-is (never through a shell). */
  args: string[];
  /** Variables merged over `process.env` for the child. */
  env?: Record<string, string>;
  /** Inherited variables the child must not see. @default [] */
  unsetEnv?: string[];
  /** Working directory; must exist. @default process.cwd() */
  cwd?: string;
  /** Receives each output line at debug (`{ instanceId, stream, line }`). @default pino({ level: 'silent' }) */
  logger?: pino.Logger;
  /** Ring the output lines go to. @default new LogRing() */
  logRing?: LogRing;
  /** Called for every output line (after it is in the ring). */
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Instance the process serves, for records and logs. */
  instanceId?: string;
  /** Watchdog that kills the process group if the kernel dies (started on first use). */
  watchdog?: OrphanWatchdog;
  /** Where the pid + start time are recorded until the group is gone. */
  records?: ProcessRecords;
  /** Longest output line kept whole, in characters; longer lines are split. @default 16384 */
  maxLineLength?: number;
  /**
   * Write stdout and stderr to this file (appended, mode 0600) instead of pipes, and follow it: the process can
   * then outlive this one (a daemon handing its servers over, guides/durable-state.md). Lines are reported as
   * `stderr`. @default pipes
   */
  outputFile?: string;
}

/** How a process ended. */
export interface ExitInfo {
  /** Exit code, or null when a signal ended it. */
  exitCode: number | null;
  /** Signal that ended it (e.g. `SIGKILL`), or null. */
  signal: string | null;
  /** When the exit was seen, epoch ms. */
  at: number;
}

/** A running (or finished) child process that leads its own process group. */
export interface ManagedProcess {
  readonly pid: number;
  /** Process group id; equals `pid`. */
  readonly pgid: number;
  /** Real start time of the process (from /proc), epoch ms; with `pid` it identifies the process. */
  readonly startedAt: number;
  readonly command: string;
  readonly args: readonly string[];
  readonly instanceId: string | undefined;
  /** Last output lines. */
  readonly logRing: LogRing;
  /** Resolves once the process exited and its remaining output was read (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Null while running. */
  readonly exitInfo: ExitInfo | null;
  /** True once the process has died, even if its exit has not been reported yet (Linux: a zombie). */
  isDefunct(): boolean;
  /**
   * SIGTERM to the whole group, wait up to `timeoutMs`, SIGKILL the group; resolves once no member of the
   * group is left (grandchildren included). Idempotent: concurrent and later calls share one promise; on a
   * process that already exited (and left nothing behind) it only reports the exit.
   * @param options.timeoutMs Grace between SIGTERM and SIGKILL, ms. @default 5000
   */
  stop(options?: { timeoutMs?: number }): Promise<ExitInfo & { forced: boolean }>;
  /** SIGKILL to the whole group now; resolves once no member is left. */
  kill(): Promise<ExitInfo>;
  /** File the process writes its output to, when it does not write to pipes. */
  readonly outputFile?: string | undefined;
  /**
   * Lets the process outlive this kernel (a planned handover): it leaves the exit safety net and its output is no
   * longer followed; the watchdog and the process record keep covering it until a successor adopts it.
   */
  handOver?(): void;
}

function validateCwd(cwd: string | undefined): string {
  if (cwd === undefined) return process.cwd();
  let isDirectory = false;
  try {
    isDirectory = statSync(cwd).isDirectory();
  } catch {
    throw new SpawnFailedError(
      `Working directory ${cwd} does not exist. Create it or pass an existing cwd.`,
      { path: cwd, details: { cwd, reason: 'cwd_missing' } },
    );
  }
  if (!isDirectory) {
    throw new SpawnFailedError(`Working directory ${cwd} is not a directory. Pass a directory as cwd.`, {
      path: cwd,
      details: { cwd, reason: 'cwd_not_directory' },
    });
  }
  return cwd;
}

function validateArgs(command: string, args: unknown): void {
  if (!Array.isArray(args)) {
    throw new SpawnFailedError(
      `Arguments for "${command}" must be an array of strings; received ${typeof args}.`,
      { details: { command, reason: 'invalid_args' } },
    );
  }
  const bad = args.findIndex((a) => typeof a !== 'string');
  if (bad !== -1) {
    throw new SpawnFailedError(
      `Argument ${bad} for "${command}" must be a string; received ${typeof args[bad]} (${String(args[bad])}).`,
      { details: { command, index: bad, reason: 'invalid_args' } },
    );
  }
}

let processOwnerMarker: string | undefined;

// Appended to (a restarted server adds to its instance's file); the offset is where this process's output begins.
// Created here first so it is 0600 whatever the umask.
function openOutputFile(file: string): { file: string; from: number } {
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const fd = openSync(file, 'a', 0o600);
    const from = fstatSync(fd).size;
    closeSync(fd);
    return { file, from };
  } catch (error) {
    throw new SpawnFailedError(
      `Could not open the output file ${file}: ${(error as Error).message}. Check that the state directory is writable. Nothing was spawned.`,
      { path: file, cause: error, details: { reason: 'output_file' } },
    );
  }
}

// The child's whole environment: the kernel's, minus `unset`, plus the plan's own variables, plus the owner
// marker (last, so no plan can forge it) that lets a watchdog or the next kernel find it after a crash.
function childEnv(env: Record<string, string>, unset: string[], owner: string): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !unset.includes(name)) merged[name] = value;
  }
  return Object.assign(merged, env, { [OWNER_ENV]: owner });
}

/**
 * Starts a program in its own process group (no shell), streams its output line by line into a ring, the
 * logger and `onLine`, and registers it with the watchdog, the records and the exit safety net, so it
 * cannot outlive the kernel. Its environment carries `SHIC_OWNER=<kernelPid>:<kernelStartTime>:<tag>` (the
 * watchdog's marker), inherited by its descendants, so a kernel killed between the exec and the record
 * still leaves nothing behind. Everything is checked before anything is spawned.
 * @throws BinaryNotFoundError (`binary_not_found`) when the command is missing or not executable.
 * @throws SpawnFailedError (`spawn_failed`) when `cwd` is missing or not a directory, `args` is not a string
 *   array, or the operating system refuses to start the program (`cause` holds the spawn error).
 */
export async function spawnProcess(options: SpawnOptions): Promise<ManagedProcess> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const { instanceId } = options;
  validateArgs(options.command, options.args);
  const cwd = validateCwd(options.cwd);
  processOwnerMarker ??= createOwnerMarker('process');
  const owner = options.watchdog?.ownerMarker ?? processOwnerMarker;
  const env = childEnv(options.env ?? {}, options.unsetEnv ?? [], owner);
  const resolved = resolveCommand(options.command, env, cwd);
  // Start the watchdog first so there is no moment where the child runs unwatched: even before its `watch`
  // line, the watchdog finds it by the owner marker in its environment.
  await options.watchdog?.start();

  const output = options.outputFile === undefined ? undefined : openOutputFile(options.outputFile);
  const execaOptions: Options = {
    cwd,
    env,
    extendEnv: false,
    detached: true, // own process group: pgid = pid, so the group can be signalled as one
    cleanup: true, // (execa ignores it with detached; the watchdog and the exit safety net do the work)
    stdin: 'ignore',
    stdout: output ? { file: output.file, append: true } : 'pipe',
    stderr: output ? { file: output.file, append: true } : 'pipe',
    buffer: false,
    reject: false,
    stripFinalNewline: false,
  };
  const subprocess = execa(resolved.path, options.args, execaOptions);
  const pid = subprocess.pid;
  if (pid === undefined) {
    const result = await subprocess;
    const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
    throw new SpawnFailedError(
      `Could not start ${resolved.path}${code ? ` (${code})` : ''}: ${result.shortMessage}. Check that it is a program for this system and that you may run it.`,
      {
        path: resolved.path,
        instanceId,
        cause: result.cause ?? result,
        details: { command: options.command, errno: code },
      },
    );
  }
  // The child is exec'd (libuv waits for that) but cannot have been reaped yet: /proc still has it.
  const startedAt = readProcessStartTime(pid) ?? Date.now();
  const logRing = options.logRing ?? new LogRing();
  const managed = new ManagedChildProcess({
    subprocess,
    pid,
    startedAt,
    command: resolved.path,
    args: [...options.args],
    instanceId,
    logRing,
    logger,
    watchdog: options.watchdog,
    records: options.records,
    outputFile: options.outputFile,
  });
  const splitter = (stream: 'stdout' | 'stderr') =>
    new LineSplitter(
      (line) => {
        logRing.push(stream, line);
        logger.debug({ instanceId, stream, line }, 'process output');
        try {
          options.onLine?.(stream, line);
        } catch (err) {
          logger.error({ instanceId, err }, 'onLine listener threw');
        }
      },
      { maxLineLength: options.maxLineLength },
    );
  if (output) {
    const lines = splitter('stderr');
    managed.attachTail(
      new FileTail(output.file, { from: output.from, onChunk: (chunk) => lines.write(chunk) }),
      lines,
    );
  } else {
    managed.attachOutput(subprocess.stdout, splitter('stdout'));
    managed.attachOutput(subprocess.stderr, splitter('stderr'));
  }
  logger.debug({ instanceId, pid, command: resolved.path, args: options.args }, 'process spawned');
  try {
    await managed.register();
  } catch (error) {
    // Unrecorded means unprotected after a crash: do not leave it running.
    await managed.kill();
    throw new SpawnFailedError(
      `Could not record process ${pid} (${resolved.path}) under ${options.records?.dir ?? 'the state directory'}: ${(error as Error).message}. Check that the state directory is writable. The process was killed.`,
      {
        path: options.records?.dir ?? resolved.path,
        instanceId,
        cause: error,
        details: { reason: 'record_failed' },
      },
    );
  }
  return managed;
}
