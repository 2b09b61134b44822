import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readProcessStartTime, sameStartTime } from './proc-info.js';

/** Environment variable every process the kernel spawns carries (and its descendants inherit). */
export const OWNER_ENV = 'SHIC_OWNER';

/** Who spawned a process, as its {@link OWNER_ENV} value says: `<kernelPid>:<kernelStartTime>[:<tag>]`. */
export interface OwnerMarker {
  /** Pid of the kernel process. */
  kernelPid: number;
  /** Start time of the kernel process, epoch ms (as `readProcessStartTime` reads it); 0 when unknown. */
  kernelStartTime: number;
  /** Tells apart kernels (watchdogs) in one process; empty when none. */
  tag: string;
}

/** A running process whose environment holds an owner marker. */
export interface OwnedProcess {
  pid: number;
  /** Its process group id. */
  pgid: number;
  /** Its start time, epoch ms. */
  startTime: number;
  /** The raw marker value. */
  marker: string;
  owner: OwnerMarker;
}

/**
 * A new owner marker for this process: `<pid>:<startTime>:<tag>`. The tag (random unless given) keeps two
 * kernels in one process apart, so one kernel's watchdog never kills the other's servers.
 */
export function createOwnerMarker(tag: string = randomBytes(6).toString('hex')): string {
  return `${process.pid}:${readProcessStartTime(process.pid) ?? 0}:${tag}`;
}

/** Parses an owner marker; null when it is not one. */
export function parseOwnerMarker(value: string): OwnerMarker | null {
  const match = /^(\d+):(\d+)(?::([A-Za-z0-9_-]{0,64}))?$/.exec(value);
  if (!match) return null;
  const kernelPid = Number(match[1]);
  const kernelStartTime = Number(match[2]);
  if (!Number.isSafeInteger(kernelPid) || kernelPid <= 0 || !Number.isSafeInteger(kernelStartTime))
    return null;
  return { kernelPid, kernelStartTime, tag: match[3] ?? '' };
}

/**
 * True when the kernel the marker names still runs (same pid and start time). An unknown start time counts
 * as alive: a process is only ever reaped when its owner is provably gone.
 */
export function isOwnerAlive(owner: OwnerMarker): boolean {
  if (owner.kernelStartTime === 0) return true;
  const started = readProcessStartTime(owner.kernelPid);
  return started !== null && sameStartTime(started, owner.kernelStartTime);
}

function statOf(pid: number): { state: string; pgid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', pgid: Number(fields[2]) };
  } catch {
    return null;
  }
}

/**
 * The owner marker in a process's environment, or null (no marker, gone, or another user's). Only the initial
 * environment is visible (/proc/<pid>/environ); that is where spawnProcess put the marker.
 */
export function readOwnerMarker(pid: number): string | null {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return null; // gone, or another user's process (EACCES): not ours to judge
  }
  const prefix = `${OWNER_ENV}=`;
  for (const entry of environ.split('\0')) if (entry.startsWith(prefix)) return entry.slice(prefix.length);
  return null;
}

/**
 * Running (non-zombie) processes carrying an owner marker, found by reading every `/proc/<pid>/environ`
 * this user may read (others are skipped). Linux only: elsewhere it returns `[]`. Costs one read per
 * process on the machine, so it runs only at kernel start and kernel death.
 * @param accept Keeps only markers it returns true for. @default every marker
 */
export function findOwnedProcesses(accept: (marker: string) => boolean = () => true): OwnedProcess[] {
  if (process.platform !== 'linux') return [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: OwnedProcess[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const marker = readOwnerMarker(pid);
    const owner = marker === null ? null : parseOwnerMarker(marker);
    if (marker === null || owner === null || !accept(marker)) continue;
    const stat = statOf(pid);
    const startTime = readProcessStartTime(pid);
    if (stat === null || startTime === null || stat.state === 'Z' || stat.state === 'X') continue;
    found.push({ pid, pgid: stat.pgid, startTime, marker, owner });
  }
  return found;
}
