import { readdirSync, readFileSync } from 'node:fs';
import { execaSync } from 'execa';

const isLinux = process.platform === 'linux';
let clockTicks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`), read once; 100 when it cannot be read. */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      const value = Number.parseInt(execaSync('getconf', ['CLK_TCK']).stdout.trim(), 10);
      clockTicks = Number.isFinite(value) && value > 0 ? value : 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

// btime (boot time, epoch seconds) is re-read every call: it is cheap and may be adjusted by NTP.
function bootTimeSeconds(): number | null {
  try {
    const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Fields of `/proc/<pid>/stat` after the `(comm)` field: index 0 is field 3 (state). */
function readStatFields(pid: number): string[] | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses; the last ')' ends it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function psLine(pid: number): { start: number; command: string } | null {
  try {
    const out = execaSync('ps', ['-o', 'lstart=,command=', '-p', String(pid)], {
      env: { LC_ALL: 'C' },
    }).stdout.trim();
    // lstart is fixed-width: "Tue Mar  4 10:11:12 2025" (24 characters).
    const start = Date.parse(out.slice(0, 24));
    return Number.isNaN(start) ? null : { start, command: out.slice(24).trim() };
  } catch {
    return null;
  }
}

/**
 * When the process started, epoch ms, or null when it does not exist. Together with the pid it
 * identifies a process across pid reuse. Linux: `/proc/<pid>/stat` field 22 + `/proc/stat` btime
 * (10 ms resolution, may shift by up to 1 s when btime is adjusted — compare with {@link sameStartTime}).
 * Other systems: `ps -o lstart=` (1 s resolution).
 */
export function readProcessStartTime(pid: number): number | null {
  if (!isLinux) return psLine(pid)?.start ?? null;
  const fields = readStatFields(pid);
  const ticks = fields?.[19];
  const boot = bootTimeSeconds();
  if (ticks === undefined || boot === null) return null;
  return boot * 1000 + Math.round((Number(ticks) * 1000) / clockTicksPerSecond());
}

/** The process's argument vector (argv[0] first), or null when it does not exist or is a zombie. */
export function readProcessCmdline(pid: number): string[] | null {
  if (!isLinux) {
    const line = psLine(pid);
    return line ? line.command.split(' ') : null;
  }
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return null;
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return null;
  }
}

/** True when two start times read at different moments denote the same process start. */
export function sameStartTime(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1000;
}

/** True when the pid exists and is not a zombie (a zombie has exited and only waits to be reaped). */
export function isProcessAlive(pid: number): boolean {
  if (isLinux) {
    const state = readStatFields(pid)?.[0];
    return state !== undefined && state !== 'Z' && state !== 'X';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Live (non-zombie) members of a process group. Linux scans `/proc`; elsewhere it reports
 * `[pgid]` when signal 0 reaches the group and `[]` otherwise.
 */
export function listGroupMembers(pgid: number): number[] {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return [];
  }
  if (!isLinux) return [pgid];
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const fields = readStatFields(pid);
    if (fields && Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') members.push(pid);
  }
  return members;
}
