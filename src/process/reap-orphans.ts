import { readFileSync } from 'node:fs';
import pino from 'pino';
import { findOwnedProcesses, isOwnerAlive, type OwnedProcess } from './owner-marker.js';
import { isProcessAlive, readProcessStartTime, sameStartTime } from './proc-info.js';
import { pollUntil, terminateGroup } from './process-group.js';

/** Options of {@link reapOrphans}. */
export interface ReapOrphansOptions {
  /** Grace between SIGTERM and SIGKILL, ms. @default 5000 */
  graceMs?: number;
  logger?: pino.Logger;
  /**
   * Owner tag of this kernel's state directory (`keep-…`): markers with another `keep-` tag belong to servers kept
   * for adoption by a daemon on another state directory, and are never touched. @default none (every `keep-` marker is spared)
   */
  keepTag?: string;
  /** Pids never signalled (servers this kernel just adopted). */
  spare?: ReadonlySet<number>;
}

function ownGroup(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}

function isSameProcess(p: OwnedProcess): boolean {
  const started = readProcessStartTime(p.pid);
  return started !== null && sameStartTime(started, p.startTime) && isProcessAlive(p.pid);
}

// A marked process that does not lead its group shares it with others: only it is signalled.
async function terminateProcess(p: OwnedProcess, graceMs: number): Promise<void> {
  const send = (signal: NodeJS.Signals) => {
    if (!isSameProcess(p)) return;
    try {
      process.kill(p.pid, signal);
    } catch {}
  };
  send('SIGTERM');
  if (await pollUntil(() => !isSameProcess(p), graceMs)) return;
  send('SIGKILL');
  await pollUntil(() => !isSameProcess(p), 5000);
}

/**
 * Kills every process whose owner marker (`SHIC_OWNER`) names a kernel that is gone — the servers a kernel
 * crash left behind even when no process record was written (a SIGKILL right after the exec). A process
 * whose marker names a live kernel, or without a marker, is never signalled; neither is this process's own
 * group. Group leaders get group SIGTERM → `graceMs` → SIGKILL (start time checked before each signal).
 * Linux only (reads `/proc/<pid>/environ`); elsewhere it does nothing.
 * @returns pids signalled (group leaders, and marked processes outside any marked leader's group).
 */
export async function reapOrphans(options: ReapOrphansOptions = {}): Promise<number[]> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const graceMs = options.graceMs ?? 5000;
  const mine = ownGroup();
  const kept = (p: OwnedProcess) => p.owner.tag.startsWith('keep-') && p.owner.tag !== options.keepTag;
  const orphans = findOwnedProcesses().filter(
    (p) => p.pgid !== mine && !kept(p) && !options.spare?.has(p.pid) && !isOwnerAlive(p.owner),
  );
  const leaders = orphans.filter((p) => p.pid === p.pgid);
  const ledGroups = new Set(leaders.map((p) => p.pgid));
  const loners = orphans.filter((p) => !ledGroups.has(p.pgid));
  for (const p of [...leaders, ...loners]) {
    logger.warn(
      { pid: p.pid, pgid: p.pgid, kernelPid: p.owner.kernelPid },
      'killing an orphan of a dead kernel (owner marker)',
    );
  }
  await Promise.all([
    ...leaders.map((p) => terminateGroup(p.pgid, p.startTime, graceMs)),
    ...loners.map((p) => terminateProcess(p, graceMs)),
  ]);
  return [...leaders, ...loners].map((p) => p.pid);
}
