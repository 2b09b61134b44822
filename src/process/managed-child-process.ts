import { closeSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ResultPromise } from 'execa';
import type pino from 'pino';
import { protectGroupOnExit, releaseGroupOnExit } from './exit-safety-net.js';
import type { FileTail } from './file-tail.js';
import type { LineSplitter } from './line-splitter.js';
import type { LogRing } from './log-ring.js';
import type { OrphanWatchdog } from './orphan-watchdog.js';
import { listGroupMembers } from './proc-info.js';
import { groupMatches, pollUntil, signalGroup } from './process-group.js';
import type { ProcessRecords } from './process-records.js';
import type { ExitInfo, ManagedProcess } from './spawn-process.js';

/** Holds one `/proc/<pid>/stat` line (a few hundred bytes). */
const STAT_BUFFER = Buffer.alloc(1024);
/** `/proc/<pid>/stat` flags bit of a task that has begun to exit (linux/sched.h). */
const PF_EXITING = 0x4;
/** Bit of SIGKILL (signal 9) in the pending-signals mask. */
const SIGKILL_BIT = 1 << 8;
/** How long to wait for output still in the pipes after the exit, ms. */
const OUTPUT_DRAIN_MS = 200;
/** Grace given to group members left behind by a leader that exited on its own, ms. */
const LEFTOVER_GRACE_MS = 2000;
/** How long to wait for a SIGKILLed group to disappear, ms. */
const KILL_WAIT_MS = 5000;

interface ManagedChildInit {
  subprocess: ResultPromise;
  pid: number;
  startedAt: number;
  command: string;
  args: string[];
  instanceId: string | undefined;
  logRing: LogRing;
  logger: pino.Logger;
  watchdog: OrphanWatchdog | undefined;
  records: ProcessRecords | undefined;
  outputFile?: string | undefined;
}

/** Resolves true when `promise` settles within `ms`, false otherwise; leaves no timer behind. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms), false);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The {@link ManagedProcess} behind `spawnProcess`: exit tracking, group stop/kill and orphan bookkeeping. */
export class ManagedChildProcess implements ManagedProcess {
  readonly pid: number;
  readonly pgid: number;
  readonly startedAt: number;
  readonly command: string;
  readonly args: readonly string[];
  readonly instanceId: string | undefined;
  readonly logRing: LogRing;
  readonly exited: Promise<ExitInfo>;
  readonly outputFile: string | undefined;
  #exitInfo: ExitInfo | null = null;
  #init: ManagedChildInit;
  #streams: Array<{ stream: Readable; splitter: LineSplitter; ended: boolean }> = [];
  #tail: { tail: FileTail; splitter: LineSplitter } | undefined;
  #handedOver = false;
  #onStreamsEnded: (() => void) | undefined;
  #stopping: Promise<ExitInfo & { forced: boolean }> | undefined;
  #forced = false;
  #released = false;
  /** Descriptor of /proc/<pid>/stat for `isDefunct`; null when it cannot be opened. */
  #statFd: number | null | undefined;

  constructor(init: ManagedChildInit) {
    this.#init = init;
    this.pid = init.pid;
    this.pgid = init.pid;
    this.startedAt = init.startedAt;
    this.command = init.command;
    this.args = init.args;
    this.instanceId = init.instanceId;
    this.logRing = init.logRing;
    this.outputFile = init.outputFile;
    // Settles only through the 'exit' event; the execa promise itself is only kept from rejecting.
    init.subprocess.then(
      () => {},
      () => {},
    );
    this.exited = new Promise<ExitInfo>((resolve) => {
      init.subprocess.once('exit', (exitCode, signal) => {
        const info: ExitInfo = { exitCode, signal, at: Date.now() };
        this.#exitInfo = info;
        init.logger.debug({ instanceId: this.instanceId, pid: this.pid, ...info }, 'process exited');
        this.#drainOutput().then(() => {
          resolve(info);
          if (this.#handedOver) return;
          if (listGroupMembers(this.pgid).length === 0) this.#release();
          else if (this.#stopping === undefined) {
            // The leader is gone but members of its group live on: they are orphans of a dead server.
            init.logger.debug(
              { instanceId: this.instanceId, pgid: this.pgid },
              'stopping leftovers of exited process',
            );
            void this.stop({ timeoutMs: LEFTOVER_GRACE_MS });
          }
        });
      });
    });
  }

  get exitInfo(): ExitInfo | null {
    return this.#exitInfo;
  }

  /**
   * True once the process has died, even before Node has reaped it and emitted its exit (a SIGKILLed server is
   * a zombie for a moment). Cheap enough for every warm ensure: one pread of `/proc/<pid>/stat` on a descriptor
   * held open. Outside Linux it only knows what the exit event told.
   */
  isDefunct(): boolean {
    if (this.#exitInfo !== null) return true;
    if (process.platform !== 'linux' || this.#statFd === null) return false;
    if (this.#statFd === undefined) {
      try {
        this.#statFd = openSync(`/proc/${this.pid}/stat`, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
        this.#statFd = null; // cannot watch (e.g. no descriptors left): rely on the exit event
        return false;
      }
    }
    try {
      const n = readSync(this.#statFd, STAT_BUFFER, 0, STAT_BUFFER.length, 0);
      const text = STAT_BUFFER.toString('latin1', 0, n);
      // Fields after "(comm) ": [0] state, [6] flags, [28] pending signals. A SIGKILL marks every thread at
      // once (its bit in the pending mask), then each thread exits (flag PF_EXITING), then the process is a zombie.
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ', 29);
      const state = fields[0];
      if (state === 'Z' || state === 'X') return true;
      return (Number(fields[6]) & PF_EXITING) !== 0 || (Number(fields[28]) & SIGKILL_BIT) !== 0;
    } catch {
      return true; // ESRCH: the process is gone
    }
  }

  /** Feeds a stdout/stderr stream into a line splitter. */
  attachOutput(stream: Readable | null, splitter: LineSplitter): void {
    if (stream === null) return;
    const entry = { stream, splitter, ended: false };
    this.#streams.push(entry);
    stream.on('data', (chunk: Buffer | string) => splitter.write(chunk));
    const finish = () => {
      if (entry.ended) return;
      entry.ended = true;
      splitter.end();
      if (this.#streams.every((s) => s.ended)) this.#onStreamsEnded?.();
    };
    stream.once('end', finish);
    stream.once('close', finish);
    stream.once('error', finish);
  }

  /** Follows the output file the process writes to (instead of pipes). */
  attachTail(tail: FileTail, splitter: LineSplitter): void {
    this.#tail = { tail, splitter };
    tail.start();
  }

  handOver(): void {
    this.#handedOver = true;
    releaseGroupOnExit(this.pgid);
    this.#stopTail();
    if (typeof this.#statFd === 'number') closeSync(this.#statFd);
    this.#statFd = null;
  }

  #stopTail(): void {
    if (!this.#tail) return;
    this.#tail.tail.finish();
    this.#tail.splitter.end();
    this.#tail = undefined;
  }

  // Output written just before the exit may still be in the pipes; a grandchild holding them open must not
  // delay the exit report, hence the cap. A file is simply read to its end.
  async #drainOutput(): Promise<void> {
    this.#stopTail();
    if (this.#streams.every((s) => s.ended)) return;
    const ended = new Promise<void>((resolve) => {
      this.#onStreamsEnded = resolve;
    });
    await settlesWithin(ended, OUTPUT_DRAIN_MS);
    this.#onStreamsEnded = undefined;
  }

  /** Registers the group with the exit safety net, the watchdog and the records. */
  async register(): Promise<void> {
    protectGroupOnExit(this.pgid, this.startedAt);
    this.#init.records?.record({
      pid: this.pid,
      pgid: this.pgid,
      startTime: this.startedAt,
      command: this.command,
      args: [...this.args],
      ...(this.instanceId === undefined ? {} : { instanceId: this.instanceId }),
    });
    await this.#init.watchdog?.watch(this.pgid, this.startedAt);
  }

  // The group is gone: nothing needs protecting any more.
  #release(): void {
    if (this.#released || this.#handedOver) return;
    this.#released = true;
    if (typeof this.#statFd === 'number') closeSync(this.#statFd);
    this.#statFd = null;
    releaseGroupOnExit(this.pgid);
    try {
      this.#init.records?.remove(this.pid);
    } catch (err) {
      this.#init.logger.warn(
        { instanceId: this.instanceId, pid: this.pid, err },
        'could not remove process record',
      );
    }
    this.#init.watchdog?.unwatch(this.pgid).catch(() => {});
    for (const { stream, ended } of this.#streams) if (!ended) stream.destroy();
  }

  #groupAlive(): boolean {
    return listGroupMembers(this.pgid).length > 0 && groupMatches(this.pgid, this.startedAt);
  }

  #signal(signal: NodeJS.Signals): void {
    // While the leader has not been reaped its pid cannot be reused; afterwards check the group is ours.
    if (this.#exitInfo === null || groupMatches(this.pgid, this.startedAt)) signalGroup(this.pgid, signal);
  }

  stop(options: { timeoutMs?: number } = {}): Promise<ExitInfo & { forced: boolean }> {
    this.#stopping ??= this.#stop(options.timeoutMs ?? 5000);
    return this.#stopping;
  }

  async #stop(timeoutMs: number): Promise<ExitInfo & { forced: boolean }> {
    const deadline = Date.now() + timeoutMs;
    if (this.#exitInfo === null || this.#groupAlive()) {
      this.#init.logger.debug(
        { instanceId: this.instanceId, pid: this.pid, timeoutMs },
        'stopping process group',
      );
      this.#signal('SIGTERM');
      const exitedInTime = await settlesWithin(this.exited, timeoutMs);
      const groupGone = exitedInTime && (await pollUntil(() => !this.#groupAlive(), deadline - Date.now()));
      if (!groupGone) await this.#killGroup();
    }
    const info = await this.exited;
    this.#release();
    return { ...info, forced: this.#forced };
  }

  kill(): Promise<ExitInfo> {
    return this.#killGroup().then(() => {
      this.#release();
      return this.exited;
    });
  }

  async #killGroup(): Promise<void> {
    if (this.#exitInfo === null || this.#groupAlive()) {
      this.#forced = true;
      this.#init.logger.debug({ instanceId: this.instanceId, pid: this.pid }, 'killing process group');
      this.#signal('SIGKILL');
    }
    await this.exited;
    if (!(await pollUntil(() => !this.#groupAlive(), KILL_WAIT_MS))) {
      this.#init.logger.warn(
        { instanceId: this.instanceId, pgid: this.pgid },
        'process group survived SIGKILL',
      );
    }
  }
}
