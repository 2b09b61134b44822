// Orphan watchdog: one per kernel, in its own process group, reading commands from a pipe on stdin.
// When the pipe reaches EOF (the kernel exited, crashed or was SIGKILLed, or closed it), every watched
// process group — and every process whose environment carries SHIC_OWNER=<--owner> (Linux: /proc/*/environ),
// which covers a server exec'd before its "watch" line was written — is SIGTERMed, given --grace-ms to exit,
// and SIGKILLed if still there. Plain Node ESM with no dependencies so it runs under `node` without a build.
// With --keep-grace-ms N (adoption, guides/durable-state.md) the kernel's end does not kill at once: the watchdog
// waits up to N ms for a successor daemon, which adopts the servers and SIGKILLs this watchdog; when none comes, it
// kills as above. "mode now" (a kernel that stopped its servers itself) skips the wait.
//   stdin lines: "watch <pgid> <startTimeMs>" | "unwatch <pgid>" | "mode now" | "mode keep"
//   args: --kernel-pid N --grace-ms N --clk-tck N [--owner <kernelPid>:<kernelStartTime>:<tag>] [--keep-grace-ms N]
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
const keepGraceMs = argValue('--keep-grace-ms', 0);
let keep = keepGraceMs > 0;
const clkTck = argValue('--clk-tck', 100);
const isLinux = process.platform === 'linux';
const ownerIndex = args.indexOf('--owner');
const owner = ownerIndex === -1 ? '' : (args[ownerIndex + 1] ?? '');

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

// Processes carrying this kernel's owner marker, read from /proc/<pid>/environ (another user's: EACCES,
// skipped). The marker is unique to this watchdog, so no other kernel's process ever matches.
function markedProcesses() {
  if (!isLinux || owner === '') return [];
  const needle = `SHIC_OWNER=${owner}`;
  const found = [];
  let names = [];
  try {
    names = readdirSync('/proc');
  } catch {}
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const pid = Number(name);
    let environ;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!environ.split('\0').includes(needle)) continue;
    const fields = statFields(pid);
    const started = startTime(pid);
    if (!fields || started === null || fields[0] === 'Z' || fields[0] === 'X') continue;
    found.push({ pid, pgid: Number(fields[2]), started });
  }
  return found;
}

function isSame(p) {
  const now = startTime(p.pid);
  const state = statFields(p.pid)?.[0];
  return now !== null && Math.abs(now - p.started) <= 1000 && state !== 'Z' && state !== 'X';
}

// A leader gets its whole group signalled; any other marked process only itself. Start time checked first.
function signalMarked(p, sig) {
  if (!isSame(p)) return;
  try {
    process.kill(p.pgid === p.pid ? -p.pgid : p.pid, sig);
  } catch {}
}

let ending = false;
// The kernel is gone. With adoption on, give a successor the grace to adopt (it kills this process when it does).
// The wait ends early once every watched group is gone, unless a marked process no watch line named was found (the
// scan of every /proc/<pid>/environ runs once here, not at every poll).
async function kernelGone() {
  if (ending) return;
  ending = true;
  if (keep) {
    const deadline = Date.now() + keepGraceMs;
    const unwatchedMarked = markedProcesses().some((p) => !watched.has(p.pgid));
    const groupsLeft = () => [...watched].some(([pgid, started]) => isOurs(pgid, started));
    while (Date.now() < deadline && (unwatchedMarked || groupsLeft()))
      await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await reapAndExit();
}

let reaping = false;
async function reapAndExit() {
  if (reaping) return;
  reaping = true;
  const groups = [...watched].filter(([pgid, started]) => isOurs(pgid, started));
  for (const [pgid] of groups) signal(pgid, 'SIGTERM');
  let marked = markedProcesses();
  for (const p of marked) signalMarked(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = groups;
  while ((left.length > 0 || marked.length > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    left = left.filter(([pgid]) => liveMembers(pgid) > 0);
    marked = marked.filter(isSame);
  }
  for (const [pgid, started] of left) if (isOurs(pgid, started)) signal(pgid, 'SIGKILL');
  // Scan again: also catches a child that was still between fork and exec at the first scan.
  for (const p of markedProcesses()) signalMarked(p, 'SIGKILL');
  process.exit(0);
}

function onLine(line) {
  const [cmd, a, b] = line.trim().split(/\s+/);
  const pgid = Number(a);
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  if (cmd === 'mode') {
    keep = a === 'keep' && keepGraceMs > 0;
    return;
  }
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
process.stdin.on('end', kernelGone);
process.stdin.on('close', kernelGone);
process.stdin.on('error', kernelGone);
for (const sig of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(sig, reapAndExit);

// Backup for a pipe that was inherited by some other process: also notice the kernel pid disappearing.
if (kernelPid > 0) {
  const kernelStart = startTime(kernelPid);
  setInterval(() => {
    const now = startTime(kernelPid);
    const zombie = isLinux && statFields(kernelPid)?.[0] === 'Z';
    const gone = zombie || now === null || (kernelStart !== null && Math.abs(now - kernelStart) > 1000);
    if (gone) kernelGone();
  }, 1000);
}
