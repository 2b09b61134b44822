import { readdirSync, readFileSync } from 'node:fs';

/** The environment variable the kit adds to every process it has the kernel spawn. */
export const CONFORMANCE_MARKER_ENV = 'SHIC_CONFORMANCE_RUN';

/** A live process that carries a marker. */
export interface MarkedProcess {
  pid: number;
  /** Its command line (argv joined by spaces), for the failure message. */
  command: string;
}

function readProc(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

// Zombies and dead tasks hold no resources; only running or sleeping processes count as left behind.
function isLive(pid: number): boolean {
  const stat = readProc(pid, 'stat');
  if (stat === null) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** True where live processes can be found by marker (Linux `/proc`). */
export function canFindMarkedProcesses(): boolean {
  try {
    readdirSync('/proc/self');
    return true;
  } catch {
    return false;
  }
}

/**
 * Live processes whose environment holds `SHIC_CONFORMANCE_RUN=<marker>` or whose argv contains `marker`.
 * Environment is inherited by every descendant, so this finds a grandchild that left the process group
 * and session (e.g. `setsid`) and that the kernel can no longer see. Linux only; elsewhere `[]`.
 */
export function findMarkedProcesses(marker: string): MarkedProcess[] {
  if (!canFindMarkedProcesses()) return [];
  const envEntry = `${CONFORMANCE_MARKER_ENV}=${marker}`;
  const found: MarkedProcess[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const environ = readProc(pid, 'environ');
    const cmdline = readProc(pid, 'cmdline');
    const argv = cmdline === null ? [] : cmdline.split('\0').filter(Boolean);
    const marked = environ?.split('\0').includes(envEntry) || argv.some((arg) => arg.includes(marker));
    if (marked && isLive(pid)) found.push({ pid, command: argv.join(' ') });
  }
  return found;
}
