// Durable state on real llama-servers under real `shic up` daemons (guides/durable-state.md): `shic restart` and
// SIGKILL hand loaded models to the next daemon without loading them again; the watchdog's grace keeps "no orphans";
// a server that died, a pid now someone else's, a server of another state directory are never adopted nor killed wrongly.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readProcessStartTime } from '../../src/process/proc-info.js';
import { isRunning, SHIC_BIN, startShicDaemon } from '../cli/shic-process.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { waitUntil } from '../support/wait-until.js';

const daemons: ResultPromise[] = [];
const serverPids = new Set<number>();
let dir: string;
let model: string;
let binary: string;

beforeAll(async () => {
  const real = await realLlamaServer();
  model = real.modelPath;
  binary = real.binaryPath;
  dir = await mkdtemp(join(tmpdir(), 'shic-durable-'));
}, 900_000);

// Ctrl-C stops a daemon's servers even with adoption on; whatever a test left behind is killed here.
afterEach(async () => {
  for (const child of daemons.splice(0)) {
    if (child.exitCode === null) child.kill('SIGINT');
    await child;
  }
  for (const pid of serverPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  serverPids.clear();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Instance {
  instanceId: string;
  state: string;
  pid?: number;
  port?: number;
  leaseCount: number;
  adoptedAt: number | null;
  metadata: { deployment?: string };
}

function setup(name: string, options: { graceMs?: number; deployments?: string[] } = {}) {
  const home = join(dir, name);
  const stateDir = join(home, 'state');
  const config = join(home, 'shic.yaml');
  const env = { SHIC_STATE_DIR: stateDir };
  const deployments = options.deployments ?? ['a', 'b', 'c'];
  const text = [
    'stateDir: ./state',
    `state: { adopt: true, adoptGraceMs: ${options.graceMs ?? 60_000} }`,
    'gateway: { port: 0 }',
    'deployments:',
    ...deployments.map((alias) =>
      [
        `  ${alias}:`,
        '    backend: llama-cpp',
        '    start: eager',
        `    bootSpec: { model: ${JSON.stringify(model)}, binaryPath: ${JSON.stringify(binary)}, alias: ${alias}, ctxSize: 256, apiKey: generate }`,
      ].join('\n'),
    ),
    '',
  ].join('\n');
  const shic = (args: string[]) =>
    execa('node', [SHIC_BIN, ...args], { env, reject: false, timeout: 120_000 });
  const ps = async () => JSON.parse((await shic(['ps', '--json'])).stdout) as Instance[];
  const start = async (command: 'up' | 'restart', extra: string[] = []) => {
    const child = () => daemons[daemons.length - 1]!;
    const { child: started } = await startShicDaemon([command, config, '--log-level', 'debug', ...extra], {
      env,
      stateDir,
      health: async () => {
        const health = await shic(['health', '--json']);
        // A SIGKILLed daemon leaves its address behind: only the new daemon's answer counts.
        return {
          exitCode: health.exitCode === 0 && JSON.parse(health.stdout).daemon?.pid === child().pid ? 0 : 1,
        };
      },
      daemons,
      timeoutMs: 120_000,
      intervalMs: 100,
      label: `shic ${command}`,
    });
    await waitUntil(
      async () => (await ps()).filter((i) => i.state === 'ready').length === deployments.length,
      {
        timeoutMs: 120_000,
        message: `${deployments.join(', ')} ready`,
      },
    );
    const instances = await ps();
    for (const i of instances) if (i.pid) serverPids.add(i.pid);
    return { child: started, instances, daemonPid: started.pid! };
  };
  return { home, stateDir, config, env, shic, ps, start, writeConfig: () => writeFile(config, text) };
}

async function makeDir(path: string) {
  await execa('mkdir', ['-p', path]);
}

const pidsOf = (instances: Instance[]): Record<string, number> =>
  Object.fromEntries(instances.map((i) => [i.metadata.deployment ?? i.instanceId, i.pid ?? 0]));

async function chat(shicDir: string, modelName: string) {
  const url = readFileSync(join(shicDir, 'gateway.url'), 'utf8').trim();
  const response = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: modelName, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
  });
  return { status: response.status, body: (await response.json()) as { choices?: unknown[] } };
}

function watchdogOf(daemonPid: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('--kernel-pid');
      if (argv.some((a) => a.endsWith('watchdog-process.mjs')) && argv[at + 1] === String(daemonPid))
        return Number(name);
    } catch {}
  }
  return undefined;
}

const spawnedLines = (output: unknown) =>
  String(output ?? '')
    .split('\n')
    .filter((l) => l.includes('"msg":"process spawned"'));

describe('durable state across daemon restarts (real llama-server)', () => {
  it('shic restart: three loaded deployments keep their pids and leases, nothing loads again, requests stay recorded', async () => {
    const d = setup('restart');
    await makeDir(d.home);
    await d.writeConfig();
    const first = await d.start('up');
    const before = pidsOf(first.instances);
    const lease = JSON.parse((await d.shic(['ensure', 'b', '--ttl', '10m', '--json'])).stdout).lease as {
      leaseRef: string;
      expiresAt: number;
    };
    expect((await chat(d.stateDir, 'a')).status).toBe(200);

    const second = await d.start('restart');
    const firstRun = await first.child;
    expect(firstRun.exitCode).toBe(0);
    expect(firstRun.all).toMatch(/3 server\(s\) kept running/);
    expect(spawnedLines(firstRun.all)).toHaveLength(3);
    const after = await d.ps();
    expect(pidsOf(after)).toEqual(before);
    for (const i of after) expect(i.adoptedAt).toEqual(expect.any(Number));
    // The lease survived with its deadline and can be renewed; every model answers with its old key.
    expect(after.find((i) => i.metadata.deployment === 'b')?.leaseCount).toBe(1);
    const renewed = await d.shic(['renew', lease.leaseRef, '--json']);
    expect(renewed.exitCode, renewed.stderr).toBe(0);
    for (const name of ['a', 'b', 'c']) {
      const answer = await chat(d.stateDir, name);
      expect(answer.status).toBe(200);
      expect(answer.body.choices).toHaveLength(1);
    }
    // The request made before the restart is still recorded.
    const requests = JSON.parse((await d.shic(['requests', '--json'])).stdout) as { model: string }[];
    expect(requests.length).toBeGreaterThanOrEqual(4);
    // The database holds no secret: the generated API keys are nowhere in it.
    const keys = readdirSync(join(d.stateDir, 'secrets')).map(
      (f) => JSON.parse(readFileSync(join(d.stateDir, 'secrets', f), 'utf8')).env.LLAMA_API_KEY as string,
    );
    expect(keys).toHaveLength(3);
    for (const file of ['shic.db', 'shic.db-wal']) {
      const bytes = readFileSync(join(d.stateDir, file)).toString('latin1');
      for (const key of keys) expect(bytes).not.toContain(key);
    }
    // Nothing was spawned by the new daemon: its debug log has no spawn, and three adoptions.
    second.child.kill('SIGINT');
    const secondRun = await second.child;
    expect(secondRun.all).toMatch(/adopted 3 running server\(s\)/);
    expect(spawnedLines(secondRun.all)).toHaveLength(0);
  }, 400_000);

  it('kill -9 of the daemon: the next shic up adopts within the grace; with no successor the watchdog kills the servers', async () => {
    const d = setup('crash', { graceMs: 4000, deployments: ['a', 'b'] });
    await makeDir(d.home);
    await d.writeConfig();
    const first = await d.start('up');
    const before = pidsOf(first.instances);
    first.child.kill('SIGKILL');
    await first.child;
    for (const pid of Object.values(before)) expect(isRunning(pid)).toBe(true);
    const second = await d.start('up');
    expect(pidsOf(second.instances)).toEqual(before);

    // Now no successor comes: the servers die after the grace, not before it ends.
    second.child.kill('SIGKILL');
    const secondRun = await second.child;
    expect(spawnedLines(secondRun.all)).toHaveLength(0);
    const killedAt = Date.now();
    for (const pid of Object.values(before)) expect(isRunning(pid)).toBe(true);
    await waitUntil(() => Object.values(before).every((pid) => !isRunning(pid)), {
      timeoutMs: 60_000,
      message: 'servers killed after the grace',
    });
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(3000);
  }, 400_000);

  it('kill -9 of daemon and watchdog: the next start adopts, or with --no-adopt stops them: never both, no orphan', async () => {
    const d = setup('both', { deployments: ['a', 'b'] });
    await makeDir(d.home);
    await d.writeConfig();
    const first = await d.start('up');
    const before = pidsOf(first.instances);
    const watchdog = watchdogOf(first.daemonPid);
    expect(watchdog).toBeDefined();
    first.child.kill('SIGKILL');
    process.kill(watchdog!, 'SIGKILL');
    await first.child;
    const second = await d.start('up');
    expect(pidsOf(second.instances)).toEqual(before);

    const secondWatchdog = watchdogOf(second.daemonPid);
    second.child.kill('SIGKILL');
    process.kill(secondWatchdog!, 'SIGKILL');
    await second.child;
    const third = await d.start('up', ['--no-adopt']);
    // Stopped, not adopted: the deployments were loaded afresh by new servers.
    for (const pid of Object.values(before)) expect(isRunning(pid)).toBe(false);
    for (const i of third.instances) {
      expect(Object.values(before)).not.toContain(i.pid);
      expect(i.adoptedAt).toBeNull();
    }
    third.child.kill('SIGINT');
    expect((await third.child).all).toMatch(/not adopted a \(pid \d+\): adoption_off, stopped/);
  }, 400_000);

  it('never adopts nor kills a server that died, a pid reused by another process, or another state directory’s server', async () => {
    const d = setup('strangers', { deployments: ['a', 'b'] });
    const other = setup('other', { deployments: ['c'] });
    await makeDir(d.home);
    await makeDir(other.home);
    await d.writeConfig();
    await other.writeConfig();
    const first = await d.start('up');
    const before = pidsOf(first.instances);
    const othersFirst = await other.start('up');
    const otherPid = othersFirst.instances[0]!.pid!;
    serverPids.add(otherPid);
    first.child.kill('SIGKILL');
    othersFirst.child.kill('SIGKILL');
    await first.child;
    await othersFirst.child;
    // a died while no daemon ran; b's record now names an unrelated process (a pid "reused").
    process.kill(before.a!, 'SIGKILL');
    await waitUntil(() => !isRunning(before.a!), { message: 'a gone' });
    const stranger = spawn('sleep', ['600'], { stdio: 'ignore' });
    const strangerPid = stranger.pid!;
    const db = new Database(join(d.stateDir, 'shic.db'));
    db.prepare("UPDATE instances SET pid = ?, process_start = ? WHERE deployment = 'b'").run(
      strangerPid,
      readProcessStartTime(strangerPid),
    );
    db.close();
    try {
      const second = await d.start('up');
      // The stranger lives; the other state directory's server lives (its daemon's grace is still running).
      expect(isRunning(strangerPid)).toBe(true);
      expect(isRunning(otherPid)).toBe(true);
      // Both deployments were started afresh.
      for (const i of second.instances) expect(i.adoptedAt).toBeNull();
      // The other directory's next daemon adopts its own server.
      const othersSecond = await other.start('up');
      expect(othersSecond.instances[0]?.pid).toBe(otherPid);
      second.child.kill('SIGINT');
      const report = String((await second.child).all);
      expect(report).toMatch(/"left":\[[^\]]*"reason":"gone"/);
      expect(report).toMatch(/"reason":"pid_reused"/);
      expect(isRunning(strangerPid)).toBe(true);
      // b's real server lost its store row (its pid was overwritten) but not its process record: it was reaped.
      serverPids.add(before.b!);
    } finally {
      stranger.kill('SIGKILL');
    }
  }, 400_000);
});
