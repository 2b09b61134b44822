// Kernel crash: a kernel in its own Node process (the library in a fixture, then the real `shic up`) is
// SIGKILLed at a random point while it starts instances and grants leases, repeatedly. Alternate rounds also
// SIGKILL its orphan watchdog, so the only safety net left is the process records. After each crash: the
// watchdog kills every server (zero orphans), or else the next kernel start on the same stateDir reaps them.
// SHIC_CRASH_ROUNDS sets the library rounds (default 6); SHIC_SOAK_SEED replays a run.
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createKernel } from '../../src/kernel/create-kernel.js';
import { waitUntil } from '../support/lifecycle-harness.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { descendantsOf, processesWithMarker, roleOf } from '../support/process-census.js';
import { createStandInBackend } from '../support/stand-in-backend.js';
import { type LineChild, startLineChild, survivors, trackTree } from './support/crash-round.js';

/** Server processes (stand-ins, llama-servers) of this round alive now; the kernel itself is not counted. */
function serversAlive(marker: string, groups: Set<number>): number {
  return survivors(marker, groups).filter((p) => /stand-in-server\.mjs|llama-server/.test(p.argv)).length;
}

import { printTable } from './support/print-table.js';
import { seededRandom, seedFromEnv } from './support/seeded-random.js';

const ROUNDS = Number(process.env.SHIC_CRASH_ROUNDS ?? '6');
const SEED = seedFromEnv('SHIC_SOAK_SEED');
const FIXTURE = fileURLToPath(new URL('./fixtures/chaos-kernel.ts', import.meta.url));
const WINDOW_FIXTURE = fileURLToPath(new URL('./fixtures/kill-in-spawn-window.ts', import.meta.url));
const SHIC = fileURLToPath(new URL('../../bin/shic.js', import.meta.url));
const root = mkdtempSync(path.join(os.tmpdir(), 'shic-crash-'));
const children: LineChild[] = [];
const report: Array<[string, string]> = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.child.kill('SIGKILL');
    await c.child;
  }
});
afterAll(() => {
  printTable(`kernel crash rounds (seed ${SEED})`, report);
  rmSync(root, { recursive: true, force: true });
});

type Mode = 'kernel' | 'kernel+watchdog';

// SIGKILLs the watchdog(s) first when asked (so it cannot clean up), then the kernel, in the same tick.
function crash(c: LineChild, mode: Mode, tree: ReturnType<typeof trackTree>): void {
  tree.poll();
  if (mode === 'kernel+watchdog') {
    for (const p of descendantsOf(c.child.pid!)) if (roleOf(p) === 'watchdog') process.kill(p.pid, 'SIGKILL');
  }
  c.child.kill('SIGKILL');
}

/** Runs the next kernel on `stateDir` (in this process) until its start-up reaping is done; returns what it reaped. */
async function nextKernelReaps(stateDir: string): Promise<number[]> {
  const killed: number[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const record = JSON.parse(line) as { msg?: string; killed?: number[] };
        if (record.msg === 'reaped processes left by a dead kernel') killed.push(...(record.killed ?? []));
      }
      done();
    },
  });
  const kernel = createKernel({
    stateDir,
    logger: pino({ level: 'info' }, sink),
    backends: [createStandInBackend()],
  });
  await kernel.close(); // close waits for the start-up reaping first
  return killed;
}

function recordFiles(stateDir: string): string[] {
  const dir = path.join(stateDir, 'processes');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('kernel SIGKILLed during starts and leases', () => {
  it('leaves no orphan: the watchdog kills its servers, or the next kernel start reaps them (library kernel)', {
    timeout: 120_000 + ROUNDS * 60_000,
  }, async () => {
    const rng = seededRandom(SEED);
    for (let round = 0; round < ROUNDS; round++) {
      const mode: Mode = round % 2 === 0 ? 'kernel' : 'kernel+watchdog';
      const marker = `crash-${randomBytes(6).toString('hex')}`;
      const stateDir = path.join(root, `lib-${round}`);
      const killAfter = rng.int(1, 60);
      const c = startLineChild(
        ['--conditions=shic-source', '--import', 'tsx', FIXTURE, stateDir, marker, String(rng.int(1, 1e9))],
        { PATH: process.env.PATH ?? '' },
      );
      children.push(c);
      const tree = trackTree(c.child.pid!);
      // Kill only with servers running: a round that kills a kernel with nothing to orphan tests nothing.
      await c.waitForLine(
        (line, i) =>
          i + 1 >= killAfter && line.startsWith('{') && serversAlive(marker, tree.serverGroups) > 0,
        60_000,
      );
      const runningAtCrash = serversAlive(marker, tree.serverGroups);
      crash(c, mode, tree);
      await c.child;
      tree.stop();
      const seen = survivors(marker, tree.serverGroups).length;
      if (mode === 'kernel') {
        await waitUntil(() => survivors(marker, tree.serverGroups).length === 0, {
          timeoutMs: 30_000,
          message: `the watchdog to kill every server of round ${round}`,
        });
      }
      const leftBeforeRestart = survivors(marker, tree.serverGroups);
      const recorded = recordFiles(stateDir);
      const reaped = await nextKernelReaps(stateDir);
      await waitUntil(() => survivors(marker, tree.serverGroups).length === 0, {
        timeoutMs: 30_000,
        message: `no orphan of round ${round} after the next kernel start`,
      }).catch(() => undefined);
      const orphans = survivors(marker, tree.serverGroups);
      // A server killed in the spawn→record window has no record: the owner marker in its environment is
      // what lets the watchdog and the next start find it. Every server must have carried this kernel's
      // marker (read from /proc, not from the kernel); one without it is the old orphan bug back.
      const leaders = leftBeforeRestart.filter((p) => p.argv.includes('stand-in-server.mjs --port'));
      const known = new Set([...recorded, ...reaped.map((pid) => `${pid}.json`)]);
      const unrecorded = leaders.filter((p) => !recorded.includes(`${p.pid}.json`));
      const unmarked = [...tree.serverOwners].filter(
        ([, owner]) => owner === null || !owner.startsWith(`${c.child.pid}:`),
      );
      report.push([
        `library round ${round} (${mode}, after ${killAfter} events)`,
        `${runningAtCrash} servers running at the kill, ${tree.serverGroups.size} server groups, ${seen} processes alive at crash, ${leftBeforeRestart.length} left for the next start (${recorded.length} records), reaped ${reaped.length}, orphans ${orphans.length}` +
          (unrecorded.length > 0
            ? `, ${unrecorded.length} unrecorded (spawn→record window; ${unrecorded.filter((p) => known.has(`${p.pid}.json`)).length} reaped by owner marker)`
            : ''),
      ]);
      expect(runningAtCrash, `round ${round} killed a kernel with no server running`).toBeGreaterThan(0);
      expect(unmarked).toEqual([]);
      expect(orphans).toEqual([]);
      expect(recordFiles(stateDir)).toEqual([]);
    }
  });
});

describe('kernel SIGKILLed between a spawn and its process record', () => {
  // Once a bug (guides/reliability.md): a server exec'd right before a SIGKILL had no record and no `watch`
  // line, so nothing ever killed it. Every spawned process now carries SHIC_OWNER=<kernel pid:start:tag> in
  // its environment; the watchdog and the next kernel start find it there.
  async function killInWindow(name: string, flags: string[]): Promise<{ marker: string; stateDir: string }> {
    const marker = `window-${randomBytes(6).toString('hex')}`;
    const stateDir = path.join(root, name);
    const c = startLineChild(['--import', 'tsx', WINDOW_FIXTURE, stateDir, marker, ...flags], {
      PATH: process.env.PATH ?? '',
    });
    children.push(c);
    const result = await c.child;
    expect(result.signal).toBe('SIGKILL');
    // The record was never written: the fixture died inside the "process spawned" log call.
    expect(recordFiles(stateDir)).toEqual([]);
    return { marker, stateDir };
  }

  it('leaves no orphan when the kernel dies right after exec, before the record is written', async () => {
    const { marker } = await killInWindow('window', []);
    try {
      // No next kernel: the watchdog alone must find the unwatched child by its owner marker.
      await waitUntil(() => processesWithMarker(marker).length === 0, {
        timeoutMs: 15_000,
        message: 'the watchdog to kill the child it was never told about',
      });
    } finally {
      for (const p of processesWithMarker(marker)) process.kill(p.pid, 'SIGKILL');
    }
  });

  it('reaps that child at the next kernel start when the watchdog died too', async () => {
    const { marker, stateDir } = await killInWindow('window-no-watchdog', ['--kill-watchdog']);
    try {
      await nextKernelReaps(stateDir);
      await waitUntil(() => processesWithMarker(marker).length === 0, {
        timeoutMs: 15_000,
        message: 'no orphan after the next kernel start (owner-marker scan)',
      });
    } finally {
      for (const p of processesWithMarker(marker)) process.kill(p.pid, 'SIGKILL');
    }
  });
});

describe('shic up SIGKILLed during starts and leases', () => {
  // Starts `shic up <config>` and resolves once the control API answers (returns the child).
  async function shicUp(config: string, stateDir: string): Promise<LineChild> {
    const c = startLineChild([SHIC, 'up', config], {
      PATH: process.env.PATH ?? '',
      SHIC_STATE_DIR: stateDir,
    });
    children.push(c);
    await c.waitForLine((line) => line.startsWith('shic daemon listening on'), 90_000);
    return c;
  }

  async function ensureOverHttp(stateDir: string, deployment: string): Promise<number> {
    const { url } = JSON.parse(readFileSync(path.join(stateDir, 'control.json'), 'utf8')) as { url: string };
    const token = readFileSync(path.join(stateDir, 'control.token'), 'utf8').trim();
    const response = await request(`${url}/v1/endpoints/ensure`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deployment, ttlMs: 60_000 }),
    });
    await response.body.text();
    return response.statusCode;
  }

  it('leaves no orphan after a SIGKILL at start, mid-start or while leased, and the next shic up reaps and starts cleanly', {
    timeout: 600_000,
  }, async () => {
    const { binaryPath, modelPath } = await realLlamaServer();
    const points = ['ready', 'mid-start', 'while leased'] as const;
    for (const [round, point] of points.entries()) {
      const mode: Mode = round === 1 ? 'kernel' : 'kernel+watchdog';
      const marker = `crash-${randomBytes(6).toString('hex')}`;
      const dir = path.join(root, `up-${round}`);
      const stateDir = path.join(dir, 'state');
      const config = path.join(dir, 'shic.yaml');
      const empty = path.join(dir, 'empty.yaml');
      // `a` starts eagerly at `shic up`; `b` starts on the first ensure (over the control API).
      const deployment = (name: string, ctxSize: number, start: string) =>
        `  ${name}:\n    backend: llama-cpp\n    start: ${start}\n    bootSpec:\n      model: ${JSON.stringify(modelPath)}\n` +
        `      binaryPath: ${JSON.stringify(binaryPath)}\n      ctxSize: ${ctxSize}\n      alias: ${marker}-${name}\n      apiKey: generate\n`;
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        config,
        `logLevel: debug\ndeployments:\n${deployment('a', 256, 'eager')}${deployment('b', 384, 'on-demand')}`,
      );
      writeFileSync(empty, 'logLevel: info\ndeployments: {}\n');

      const c = await shicUp(config, stateDir);
      const tree = trackTree(c.child.pid!);
      if (point === 'mid-start') {
        // Spawned, not yet ready, and maybe not yet recorded: the owner marker covers the spawn→record window.
        await waitUntil(() => tree.serverGroups.size > 0, {
          timeoutMs: 60_000,
          intervalMs: 5,
          message: 'a llama-server spawned',
        });
      } else {
        await c.waitForLine((line) => line.startsWith('ready a'), 90_000);
        if (point === 'while leased') {
          expect(await ensureOverHttp(stateDir, 'a')).toBe(200);
          expect(await ensureOverHttp(stateDir, 'b')).toBe(200);
        }
      }
      const runningAtCrash = serversAlive(marker, tree.serverGroups);
      crash(c, mode, tree);
      await c.child;
      tree.stop();
      if (mode === 'kernel') {
        await waitUntil(() => survivors(marker, tree.serverGroups).length === 0, {
          timeoutMs: 30_000,
          message: 'the watchdog to kill every llama-server',
        });
      }
      const left = survivors(marker, tree.serverGroups);
      // The next daemon on the same stateDir takes over the dead one's lock and reaps its servers.
      const next = await shicUp(empty, stateDir);
      await waitUntil(() => survivors(marker, tree.serverGroups).length === 0, {
        timeoutMs: 30_000,
        message: `no llama-server of round ${round} left once the next shic up runs`,
      }).catch(() => undefined);
      const orphans = survivors(marker, tree.serverGroups);
      next.child.kill('SIGTERM');
      const result = await next.child;
      report.push([
        `shic up round ${round} (${mode}, ${point})`,
        `${runningAtCrash} llama-servers running at the kill, ${tree.serverGroups.size} server groups, ${left.length} left for the next start, orphans ${orphans.length}, next exit ${result.exitCode}`,
      ]);
      expect(runningAtCrash, `round ${round} killed shic up with no llama-server running`).toBeGreaterThan(
        point === 'while leased' ? 1 : 0,
      );
      expect(orphans).toEqual([]);
      // Every llama-server carried this daemon's owner marker (what covers the spawn→record window).
      expect(
        [...tree.serverOwners].filter(([, owner]) => owner === null || !owner.startsWith(`${c.child.pid}:`)),
      ).toEqual([]);
      expect(result.exitCode).toBe(0);
      expect(recordFiles(stateDir)).toEqual([]);
      // A cleanly stopped daemon leaves at most the empty process-record directory and its store (guides/durable-state.md).
      expect(readdirSync(stateDir).filter((name) => name !== 'processes' && name !== 'shic.db')).toEqual([]);
    }
  });
});
