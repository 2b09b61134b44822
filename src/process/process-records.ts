import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { listGroupMembers, readProcessCmdline, readProcessStartTime, sameStartTime } from './proc-info.js';
import { terminateGroup } from './process-group.js';
import { reapOrphans } from './reap-orphans.js';

/** What the kernel remembers about a process it spawned, to find it again after a crash. */
export interface ProcessRecord {
  pid: number;
  /** Process group id (equals `pid`: spawned processes lead their own group). */
  pgid: number;
  /** Process start time, epoch ms (see `readProcessStartTime`); with `pid` it identifies the process. */
  startTime: number;
  /** Executable as spawned (argv[0]). */
  command: string;
  args: string[];
  instanceId?: string;
  /** Pid of the kernel process that spawned it. @default process.pid */
  kernelPid: number;
  /** Start time of that kernel process, epoch ms. @default this process's start time */
  kernelStartTime: number | null;
  /** When the record was written, epoch ms. */
  recordedAt: number;
}

/** Input of {@link ProcessRecords.record}. */
export type ProcessRecordInput = Omit<ProcessRecord, 'kernelPid' | 'kernelStartTime' | 'recordedAt'> &
  Partial<Pick<ProcessRecord, 'kernelPid' | 'kernelStartTime'>>;

/** Options of {@link ProcessRecords.reapStale}. */
export interface ReapOptions {
  /** Grace between SIGTERM and SIGKILL per stale group, ms. @default 5000 */
  graceMs?: number;
  /**
   * Also kill unrecorded processes whose owner marker (`SHIC_OWNER`) names a dead kernel (Linux: scans
   * `/proc/<pid>/environ`), e.g. a server exec'd just before a SIGKILL that left no time to record it.
   * @default true
   */
  scanOwners?: boolean;
  /** This state directory's owner tag, for the owner scan (see `reapOrphans`). */
  keepTag?: string;
  /** Pids never signalled, recorded or not (servers this kernel just adopted). */
  spare?: ReadonlySet<number>;
}

let ownStartTime: number | null | undefined;
function kernelStartTime(): number | null {
  if (ownStartTime === undefined) ownStartTime = readProcessStartTime(process.pid);
  return ownStartTime;
}

function commandLineMatches(record: ProcessRecord, cmdline: string[]): boolean {
  const [argv0, ...args] = cmdline;
  if (argv0 === undefined || args.length !== record.args.length) return false;
  if (!args.every((a, i) => a === record.args[i])) return false;
  return argv0 === record.command || path.basename(argv0) === path.basename(record.command);
}

/**
 * The pids (with start time and command line) of processes this kernel spawned, one small JSON file each
 * under `<stateDir>/processes/`, so a kernel that crashed can have its leftovers killed on the next start
 * without ever signalling an unrelated process that reused a pid.
 */
export class ProcessRecords {
  /** Directory holding the record files. */
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'processes');
  }

  #file(pid: number): string {
    return path.join(this.dir, `${pid}.json`);
  }

  /** Writes (atomically: temp file + rename) the record of a spawned process. Files are 0600, the dir 0700. */
  record(input: ProcessRecordInput): ProcessRecord {
    const record: ProcessRecord = {
      ...input,
      kernelPid: input.kernelPid ?? process.pid,
      kernelStartTime: input.kernelStartTime === undefined ? kernelStartTime() : input.kernelStartTime,
      recordedAt: Date.now(),
    };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const tmp = `${this.#file(record.pid)}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    renameSync(tmp, this.#file(record.pid));
    return record;
  }

  /** Deletes the record of `pid`; no-op when there is none (or the directory does not exist). */
  remove(pid: number): void {
    try {
      rmSync(this.#file(pid), { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    }
  }

  /** Every readable record (unreadable or malformed files are skipped). */
  list(): ProcessRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const records: ProcessRecord[] = [];
    for (const name of names) {
      if (!/^\d+\.json$/.test(name)) continue;
      try {
        const value = JSON.parse(readFileSync(path.join(this.dir, name), 'utf8')) as ProcessRecord;
        if (
          Number.isInteger(value.pid) &&
          Number.isInteger(value.pgid) &&
          typeof value.startTime === 'number'
        ) {
          records.push(value);
        }
      } catch {
        // A torn or foreign file: not ours to interpret.
      }
    }
    return records;
  }

  /** True when the kernel that wrote `record` is still running (this one, or another on the same stateDir). */
  #ownerAlive(record: ProcessRecord): boolean {
    if (record.kernelStartTime === null || record.kernelStartTime === undefined) return false;
    const started = readProcessStartTime(record.kernelPid);
    return started !== null && sameStartTime(started, record.kernelStartTime);
  }

  /**
   * Run at kernel start: kills (group SIGTERM, then SIGKILL after `graceMs`) recorded processes that still
   * run and match their record (same start time and command line), and removes records of processes that
   * are gone or do not match (their pid was reused: they are never signalled). Records of a kernel that is
   * still alive — this one or another on the same stateDir — are left alone. Then (unless `scanOwners` is
   * false) kills any process whose owner marker names a dead kernel, recorded or not (see `reapOrphans`).
   * @returns pids killed (recorded ones and marked orphans), and pids left alone although alive (owned by a
   *   live kernel, or not matching).
   */
  async reapStale(
    logger: pino.Logger = pino({ level: 'silent' }),
    options: ReapOptions = {},
  ): Promise<{ killed: number[]; skipped: number[] }> {
    const killed: number[] = [];
    const skipped: number[] = [];
    for (const record of this.list()) {
      if (options.spare?.has(record.pid)) continue;
      if (this.#ownerAlive(record)) {
        skipped.push(record.pid);
        continue;
      }
      const leaderStart = readProcessStartTime(record.pid);
      const cmdline = readProcessCmdline(record.pid);
      let ours: boolean;
      if (leaderStart !== null && cmdline !== null) {
        ours = sameStartTime(leaderStart, record.startTime) && commandLineMatches(record, cmdline);
      } else if (leaderStart === null || sameStartTime(leaderStart, record.startTime)) {
        // Leader gone (or a zombie): members left in its group are ours (a live group's id is never reused).
        ours = listGroupMembers(record.pgid).length > 0;
      } else {
        ours = false;
      }
      if (ours) {
        logger.warn(
          { pid: record.pid, instanceId: record.instanceId },
          'killing stale process left by a dead kernel',
        );
        await terminateGroup(record.pgid, record.startTime, options.graceMs ?? 5000);
        killed.push(record.pid);
      } else if (leaderStart !== null) {
        logger.info({ pid: record.pid }, 'recorded pid now belongs to another process; leaving it alone');
        skipped.push(record.pid);
      }
      this.remove(record.pid);
    }
    if (options.scanOwners !== false) {
      const scan = {
        logger,
        graceMs: options.graceMs ?? 5000,
        ...(options.keepTag ? { keepTag: options.keepTag } : {}),
        ...(options.spare ? { spare: options.spare } : {}),
      };
      for (const pid of await reapOrphans(scan)) if (!killed.includes(pid)) killed.push(pid);
    }
    return { killed, skipped };
  }
}
