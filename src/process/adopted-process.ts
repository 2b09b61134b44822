import { statSync } from 'node:fs';
import pino from 'pino';
import { protectGroupOnExit, releaseGroupOnExit } from './exit-safety-net.js';
import { FileTail } from './file-tail.js';
import { LineSplitter } from './line-splitter.js';
import { LogRing } from './log-ring.js';
import type { OrphanWatchdog } from './orphan-watchdog.js';
import { isProcessAlive, listGroupMembers, readProcessStartTime, sameStartTime } from './proc-info.js';
import { groupMatches, pollUntil, signalGroup, terminateGroup } from './process-group.js';
import type { ProcessRecords } from './process-records.js';
import type { ExitInfo, ManagedProcess } from './spawn-process.js';

/** What is known of a running server another kernel started (a predecessor on the same state directory). */
export interface AdoptedProcessInit {
  pid: number;
  /** Start time the record holds, epoch ms (already checked against the live process). */
  startedAt: number;
  command: string;
  args: string[];
  instanceId: string;
  /** The file the process writes its output to: its last lines fill the ring, new ones are followed. */
  outputFile?: string | undefined;
  logRing?: LogRing;
  onLine?: (line: string) => void;
  logger?: pino.Logger;
  watchdog?: OrphanWatchdog;
  records?: ProcessRecords;
  /** How often the process is checked for having exited (it is not this process's child: no exit event), ms. @default 250 */
  pollMs?: number;
}

/** How much of the output file seeds the ring on adoption. */
const BACKLOG_BYTES = 64 * 1024;

/**
 * A server this kernel adopted rather than spawned (guides/durable-state.md): not a child of this process, so its
 * exit is noticed by polling its pid and start time, and it has no exit code. It is stopped like a spawned one
 * (group SIGTERM, grace, SIGKILL), with the start time checked before every signal.
 */
export class AdoptedProcess implements ManagedProcess {
  readonly pid: number;
  readonly pgid: number;
  readonly startedAt: number;
  readonly command: string;
  readonly args: readonly string[];
  readonly instanceId: string;
  readonly logRing: LogRing;
  readonly outputFile: string | undefined;
  readonly exited: Promise<ExitInfo>;
  readonly #init: AdoptedProcessInit;
  readonly #logger: pino.Logger;
  #exitInfo: ExitInfo | null = null;
  #poll: NodeJS.Timeout | undefined;
  #tail: FileTail | undefined;
  #splitter: LineSplitter | undefined;
  #stopping: Promise<ExitInfo & { forced: boolean }> | undefined;
  #released = false;
  #handedOver = false;
  // Looks once whether the process is gone (the poll's check): a stop that saw the group go need not wait for the
  // next poll, whose timer is unref'd and would not keep a process with nothing else to do alive.
  #checkExit: () => void = () => {};

  constructor(init: AdoptedProcessInit) {
    this.#init = init;
    this.pid = init.pid;
    this.pgid = init.pid;
    this.startedAt = init.startedAt;
    this.command = init.command;
    this.args = [...init.args];
    this.instanceId = init.instanceId;
    this.logRing = init.logRing ?? new LogRing();
    this.outputFile = init.outputFile;
    this.#logger = init.logger ?? pino({ level: 'silent' });
    this.exited = new Promise<ExitInfo>((resolve) => {
      const check = () => {
        if (this.#exitInfo !== null) return;
        if (this.#isSame()) return;
        clearInterval(this.#poll);
        this.#stopTail();
        const info: ExitInfo = { exitCode: null, signal: null, at: Date.now() };
        this.#exitInfo = info;
        this.#logger.debug({ instanceId: this.instanceId, pid: this.pid }, 'adopted process exited');
        resolve(info);
        if (!this.#handedOver && listGroupMembers(this.pgid).length === 0) this.#release();
      };
      this.#checkExit = check;
      this.#poll = setInterval(check, init.pollMs ?? 250);
      this.#poll.unref();
    });
    this.#followOutput();
  }

  get exitInfo(): ExitInfo | null {
    return this.#exitInfo;
  }

  isDefunct(): boolean {
    return this.#exitInfo !== null || !this.#isSame();
  }

  #isSame(): boolean {
    const started = readProcessStartTime(this.pid);
    return started !== null && sameStartTime(started, this.startedAt) && isProcessAlive(this.pid);
  }

  // The last lines already in the file go to the ring (for `shic logs` and error reports), not to `onLine`:
  // they were interpreted by the kernel that spawned the process.
  #followOutput(): void {
    const file = this.outputFile;
    if (file === undefined) return;
    let from = 0;
    try {
      from = Math.max(0, statSync(file).size - BACKLOG_BYTES);
    } catch {
      return;
    }
    let live = false;
    let cutLine = from > 0; // the backlog's first line was probably cut in half
    const splitter = new LineSplitter((line) => {
      if (cutLine) {
        cutLine = false;
        return;
      }
      this.logRing.push('stderr', line);
      if (live) this.#init.onLine?.(line);
    });
    // `start` reads what is already there at once: the backlog; everything after it is live.
    this.#tail = new FileTail(file, { from, onChunk: (chunk) => splitter.write(chunk) });
    this.#tail.start();
    live = true;
    this.#splitter = splitter;
  }

  #stopTail(): void {
    this.#tail?.finish();
    this.#tail = undefined;
    this.#splitter?.end();
    this.#splitter = undefined;
  }

  /** Registers the group with the exit safety net, the watchdog and the records, as a spawned one is. */
  async register(): Promise<void> {
    protectGroupOnExit(this.pgid, this.startedAt);
    this.#init.records?.record({
      pid: this.pid,
      pgid: this.pgid,
      startTime: this.startedAt,
      command: this.command,
      args: [...this.args],
      instanceId: this.instanceId,
    });
    await this.#init.watchdog?.watch(this.pgid, this.startedAt);
  }

  handOver(): void {
    this.#handedOver = true;
    clearInterval(this.#poll);
    this.#stopTail();
    releaseGroupOnExit(this.pgid);
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    releaseGroupOnExit(this.pgid);
    this.#init.records?.remove(this.pid);
    this.#init.watchdog?.unwatch(this.pgid).catch(() => {});
  }

  #groupAlive(): boolean {
    return listGroupMembers(this.pgid).length > 0 && groupMatches(this.pgid, this.startedAt);
  }

  stop(options: { timeoutMs?: number } = {}): Promise<ExitInfo & { forced: boolean }> {
    this.#stopping ??= this.#stop(options.timeoutMs ?? 5000);
    return this.#stopping;
  }

  async #stop(timeoutMs: number): Promise<ExitInfo & { forced: boolean }> {
    const { forced } = await terminateGroup(this.pgid, this.startedAt, timeoutMs);
    this.#checkExit();
    const info = await this.exited;
    this.#release();
    return { ...info, forced };
  }

  async kill(): Promise<ExitInfo> {
    if (groupMatches(this.pgid, this.startedAt)) signalGroup(this.pgid, 'SIGKILL');
    await pollUntil(() => !this.#groupAlive(), 5000);
    this.#checkExit();
    const info = await this.exited;
    this.#release();
    return info;
  }
}
