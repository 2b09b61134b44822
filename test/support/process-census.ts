// Reads /proc directly (independently of the code under test) to list the processes under a pid: the ppid
// tree plus every member of a process group led by one of them (grandchildren reparented to init stay in
// their group), and finds processes anywhere by an argv marker. Linux only.
import { readdirSync, readFileSync } from 'node:fs';

/** One process as /proc shows it. */
export interface CensusProcess {
  pid: number;
  ppid: number;
  pgid: number;
  /** One-letter state from /proc/<pid>/stat (`R`, `S`, `Z`, …). */
  state: string;
  /** argv (empty for zombies and kernel threads). */
  argv: string[];
}

function readStat(pid: number): { state: string; ppid: number; pgid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', ppid: Number(fields[1]), pgid: Number(fields[2]) };
  } catch {
    return null;
  }
}

function readArgv(pid: number): string[] {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw === '' ? [] : raw.replace(/\0$/, '').split('\0');
  } catch {
    return [];
  }
}

/** Every live process on the machine (zombies included, marked by `state === 'Z'`). */
export function allProcesses(): CensusProcess[] {
  const out: CensusProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = readStat(pid);
    if (stat) out.push({ pid, ...stat, argv: readArgv(pid) });
  }
  return out;
}

/** True when the pid exists and is neither a zombie nor dead. */
export function isRunning(pid: number): boolean {
  const state = readStat(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/**
 * Running (non-zombie) descendants of `rootPid`: its ppid tree, plus members of any process group led by
 * a process in that tree (so a grandchild whose parent died and was reparented still counts).
 */
export function descendantsOf(rootPid: number): CensusProcess[] {
  const all = allProcesses();
  const byParent = new Map<number, CensusProcess[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const found = new Map<number, CensusProcess>();
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    for (const child of byParent.get(pid) ?? []) {
      if (found.has(child.pid)) continue;
      found.set(child.pid, child);
      queue.push(child.pid);
    }
  }
  const leaders = new Set([...found.keys()]);
  for (const p of all) {
    if (p.pid !== rootPid && leaders.has(p.pgid) && !found.has(p.pid)) found.set(p.pid, p);
  }
  return [...found.values()].filter((p) => p.state !== 'Z' && p.state !== 'X');
}

/** Running processes anywhere whose argv contains `marker` in some argument. */
export function processesWithMarker(marker: string): CensusProcess[] {
  return allProcesses().filter(
    (p) => p.state !== 'Z' && p.state !== 'X' && p.argv.some((a) => a.includes(marker)),
  );
}

/** What a process is, judged by its argv: a kernel-spawned server, the orphan watchdog, or something else. */
export type ProcessRole = 'stand-in' | 'stand-in-grandchild' | 'llama-server' | 'watchdog' | 'other';

/** Classifies a process by argv markers (script names and the llama-server binary name). */
export function roleOf(p: CensusProcess): ProcessRole {
  const joined = p.argv.join(' ');
  if (joined.includes('watchdog-process.mjs')) return 'watchdog';
  if (joined.includes('stand-in-server.mjs')) {
    return p.argv.includes('--grandchild') ? 'stand-in-grandchild' : 'stand-in';
  }
  if (p.argv[0] !== undefined && /(^|\/)llama-server$/.test(p.argv[0])) return 'llama-server';
  return 'other';
}

/** Number of open file descriptors of this process (entries of /proc/self/fd). */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
