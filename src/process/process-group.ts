import { setTimeout as sleep } from 'node:timers/promises';
import { listGroupMembers, readProcessStartTime, sameStartTime } from './proc-info.js';

/**
 * Sends `signal` to every member of process group `pgid`.
 * @returns false when no such group exists (nothing was signalled).
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * True when group `pgid` still belongs to the process that started at `startTime` (epoch ms).
 * The leader alive with another start time means the pid was reused: not ours. The leader gone but members
 * left means they are ours: Linux does not hand out a pid while it names a live process group.
 */
export function groupMatches(pgid: number, startTime: number): boolean {
  const leaderStart = readProcessStartTime(pgid);
  if (leaderStart !== null) return sameStartTime(leaderStart, startTime);
  return listGroupMembers(pgid).length > 0;
}

/** Polls until `done()` is true or `timeoutMs` passes. @returns whether `done()` became true. */
export async function pollUntil(done: () => boolean, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let wait = 5;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(wait, intervalMs, Math.max(1, deadline - Date.now())));
    wait *= 2;
  }
  return true;
}

/** Result of {@link terminateGroup}. */
export interface TerminateGroupResult {
  /** True when SIGKILL had to be sent. */
  forced: boolean;
  /** True when the group was ours and had live members when called. */
  signalled: boolean;
}

/**
 * Stops a process group that is not our child (nobody reports its exit): SIGTERM, poll until no live
 * member is left for `timeoutMs`, then SIGKILL and poll again. Does nothing when the group does not match
 * `startTime` (pid reuse).
 * @param timeoutMs Grace between SIGTERM and SIGKILL, ms. @default 5000
 */
export async function terminateGroup(
  pgid: number,
  startTime: number,
  timeoutMs = 5000,
): Promise<TerminateGroupResult> {
  if (!groupMatches(pgid, startTime)) return { forced: false, signalled: false };
  const gone = () => listGroupMembers(pgid).length === 0;
  signalGroup(pgid, 'SIGTERM');
  if (await pollUntil(gone, timeoutMs)) return { forced: false, signalled: true };
  signalGroup(pgid, 'SIGKILL');
  await pollUntil(gone, 5000);
  return { forced: true, signalled: true };
}
