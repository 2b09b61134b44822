// Orphan watchdog: one per kernel, in its own process group, reading commands from a pipe on stdin.
// When the pipe reaches EOF (the kernel exited, crashed or was SIGKILLed, or closed it), every watched
// process group is SIGTERMed, given --grace-ms to exit, and SIGKILLed if still there. Plain Node ESM with
// no dependencies so it runs under `node` without a build step.
//   stdin lines: "watch <pgid> <startTimeMs>" | "unwatch <pgid>"
//   args: --kernel-pid N --grace-ms N --clk-tck N
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const argValue = (name, fallback) => {
  const i = args.indexOf(name);
  const value = i === -1 ? Number.NaN : Number(args[i + 1]);
  return Number.isFinite(value) ? value : fallback;
};
const kernelPid = argValue('--kernel-pid', 0);
const graceMs = argValue('--grace-ms', 3000);
const clkTck = argValue('--clk-tck', 100);
const isLinux = process.platform === 'linux';

/** pgid → start time of its leader (epoch ms). */
const watched = new Map();

function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function startTime(pid) {
  if (!isLinux) {
    try {
      const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { env: { LC_ALL: 'C' } });
      const t = Date.parse(out.toString().trim());
      return Number.isNaN(t) ? null : t;
    } catch {
      return null;
    }
  }
  const fields = statFields(pid);
  let btime = null;
  try {
    btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
  } catch {}
  if (!fields || !btime) return null;
  return btime * 1000 + Math.round((Number(fields[19]) * 1000) / clkTck);
}

function liveMembers(pgid) {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if (error.code === 'ESRCH') return 0;
  }
  if (!isLinux) return 1;
  let count = 0;
  for (const name of readdirSync('/proc')) {
    const fields = /^\d+$/.test(name) ? statFields(Number(name)) : null;
    if (fields && Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') count++;
  }
  return count;
}

// The group is ours when its leader still has the recorded start time, or when the leader is gone but
// members remain (a pid naming a live group is never reused).
function isOurs(pgid, started) {
  const leaderStart = startTime(pgid);
  if (leaderStart !== null) return Math.abs(leaderStart - started) <= 1000;
  return liveMembers(pgid) > 0;
}

function signal(pgid, sig) {
  try {
    process.kill(-pgid, sig);
  } catch {}
}

let reaping = false;
async function reapAndExit() {
  if (reaping) return;
  reaping = true;
  const groups = [...watched].filter(([pgid, started]) => isOurs(pgid, started));
  for (const [pgid] of groups) signal(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = groups;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    left = left.filter(([pgid]) => liveMembers(pgid) > 0);
  }
  for (const [pgid, started] of left) if (isOurs(pgid, started)) signal(pgid, 'SIGKILL');
  process.exit(0);
}

function onLine(line) {
  const [cmd, a, b] = line.trim().split(/\s+/);
  const pgid = Number(a);
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  if (cmd === 'watch' && Number.isFinite(Number(b))) watched.set(pgid, Number(b));
  else if (cmd === 'unwatch') watched.delete(pgid);
}

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let nl = pending.indexOf('\n');
  while (nl !== -1) {
    onLine(pending.slice(0, nl));
    pending = pending.slice(nl + 1);
    nl = pending.indexOf('\n');
  }
});
process.stdin.on('end', reapAndExit);
process.stdin.on('close', reapAndExit);
process.stdin.on('error', reapAndExit);
for (const sig of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(sig, reapAndExit);

// Backup for a pipe that was inherited by some other process: also notice the kernel pid disappearing.
if (kernelPid > 0) {
  const kernelStart = startTime(kernelPid);
  setInterval(() => {
    const now = startTime(kernelPid);
    const zombie = isLinux && statFields(kernelPid)?.[0] === 'Z';
    const gone = zombie || now === null || (kernelStart !== null && Math.abs(now - kernelStart) > 1000);
    if (gone) reapAndExit();
  }, 1000);
}
