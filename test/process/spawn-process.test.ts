import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KernelError } from '../../src/errors/kernel-error.js';
import { protectedGroupCount } from '../../src/process/exit-safety-net.js';
import { LogRing } from '../../src/process/log-ring.js';
import { readProcessStartTime, sameStartTime } from '../../src/process/proc-info.js';
import { ProcessRecords } from '../../src/process/process-records.js';
import { type ManagedProcess, spawnProcess } from '../../src/process/spawn-process.js';
import { alive, childrenOf, killGroupQuietly, standInServer, waitUntil } from './process-test-helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'spawn-process-'));
const spawned: ManagedProcess[] = [];

async function spawnNode(script: string, extra: Partial<Parameters<typeof spawnProcess>[0]> = {}) {
  const proc = await spawnProcess({ command: process.execPath, args: ['-e', script], ...extra });
  spawned.push(proc);
  return proc;
}

async function spawnStandIn(args: string[], extra: Partial<Parameters<typeof spawnProcess>[0]> = {}) {
  const proc = await spawnProcess({
    command: process.execPath,
    args: [standInServer, '--port', '0', ...args],
    ...extra,
  });
  spawned.push(proc);
  await waitUntil(
    () => proc.logRing.lines().some((l) => l.startsWith('listening on')),
    15_000,
    'stand-in listening',
  );
  return proc;
}

afterEach(async () => {
  for (const proc of spawned.splice(0)) {
    killGroupQuietly(proc.pgid);
    await proc.exited;
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('spawnProcess', () => {
  it('streams stdout and stderr line by line into the ring, handling partial lines and CRLF', async () => {
    const proc = await spawnNode(
      "process.stdout.write('par'); setTimeout(() => { process.stdout.write('tial\\r\\nnext\\n'); process.stderr.write('oops\\n'); process.stdout.write('no newline'); }, 50);",
    );
    await proc.exited;
    expect(proc.logRing.lines().filter((l) => l !== 'oops')).toEqual(['partial', 'next', 'no newline']);
    expect(proc.logRing.entries().find((e) => e.line === 'oops')?.stream).toBe('stderr');
  });

  it('keeps the ring bounded by lines and by bytes for a chatty process', async () => {
    const byLines = new LogRing({ maxLines: 50 });
    const p1 = await spawnNode("for (let i = 0; i < 1000; i++) console.log('line ' + i)", {
      logRing: byLines,
    });
    const byBytes = new LogRing({ maxLines: 10_000, maxBytes: 1024 });
    const p2 = await spawnNode("for (let i = 0; i < 1000; i++) console.log('x'.repeat(99))", {
      logRing: byBytes,
    });
    await Promise.all([p1.exited, p2.exited]);
    expect(byLines.lines()).toHaveLength(50);
    expect(byLines.lines().at(-1)).toBe('line 999');
    expect(byLines.totalLines).toBe(1000);
    expect(byBytes.lines().join('').length).toBeLessThanOrEqual(1024);
    expect(byBytes.totalLines).toBe(1000);
  });

  it('cuts a very long line into pieces instead of buffering it whole', async () => {
    const proc = await spawnNode("process.stdout.write('y'.repeat(100000) + '\\n')", {
      maxLineLength: 16_384,
      logRing: new LogRing({ maxBytes: 1024 * 1024 }),
    });
    await proc.exited;
    const lines = proc.logRing.lines();
    expect(lines.every((l) => l.length <= 16_384)).toBe(true);
    expect(lines.map((l) => l.length)).toEqual([16_384, 16_384, 16_384, 16_384, 16_384, 16_384, 1696]);
    expect(lines.join('') === 'y'.repeat(100_000)).toBe(true);
  });

  it('passes each line to onLine and to the logger at debug with instanceId and stream', async () => {
    const logged: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logged.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const seen: string[] = [];
    const proc = await spawnNode("console.log('hello'); console.error('world')", {
      instanceId: 'inst-1',
      logger: pino({ level: 'debug' }, sink),
      onLine: (stream, line) => seen.push(`${stream}:${line}`),
    });
    await proc.exited;
    expect(seen.sort()).toEqual(['stderr:world', 'stdout:hello']);
    expect(logged).toContainEqual(
      expect.objectContaining({ instanceId: 'inst-1', stream: 'stdout', line: 'hello' }),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({ instanceId: 'inst-1', stream: 'stderr', line: 'world' }),
    );
  });

  it('merges env over process.env and runs in cwd', async () => {
    const proc = await spawnNode(
      'console.log(process.env.STAND_IN_VAR, process.cwd(), Boolean(process.env.PATH))',
      {
        env: { STAND_IN_VAR: 'set-by-plan' },
        cwd: tmp,
      },
    );
    await proc.exited;
    expect(proc.logRing.lines()).toEqual([`set-by-plan ${tmp} true`]);
  });

  it('removes the inherited variables named in unsetEnv, keeping the plan env', async () => {
    process.env.SHIC_TEST_INHERITED = 'from-kernel';
    try {
      const proc = await spawnNode(
        'console.log(String(process.env.SHIC_TEST_INHERITED), process.env.STAND_IN_VAR, Boolean(process.env.PATH))',
        { env: { STAND_IN_VAR: 'kept' }, unsetEnv: ['SHIC_TEST_INHERITED'] },
      );
      await proc.exited;
      expect(proc.logRing.lines()).toEqual(['undefined kept true']);
    } finally {
      delete process.env.SHIC_TEST_INHERITED;
    }
  });

  it('reports the real start time of the process and makes it lead its own group', async () => {
    const proc = await spawnNode('setInterval(() => {}, 1000)');
    expect(sameStartTime(proc.startedAt, readProcessStartTime(proc.pid)!)).toBe(true);
    expect(Math.abs(proc.startedAt - Date.now())).toBeLessThan(10_000);
    expect(proc.pgid).toBe(proc.pid);
    expect(proc.exitInfo).toBeNull();
  });

  it('captures the exit code and the signal', async () => {
    const byCode = await spawnNode('process.exit(3)');
    const bySignal = await spawnNode("process.kill(process.pid, 'SIGKILL')");
    expect(await byCode.exited).toMatchObject({ exitCode: 3, signal: null });
    expect(await bySignal.exited).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(byCode.exitInfo).toMatchObject({ exitCode: 3 });
  });

  it('keeps the last lines a process printed before it exited', async () => {
    const proc = await spawnNode("console.error('fatal: model file is corrupt'); process.exit(1)");
    await proc.exited;
    expect(proc.logRing.lines(1)).toEqual(['fatal: model file is corrupt']);
  });

  it('stops a stand-in server that honours SIGTERM without force', async () => {
    const proc = await spawnStandIn([]);
    const result = await proc.stop({ timeoutMs: 10_000 });
    expect(result).toMatchObject({ forced: false, exitCode: 0 });
    expect(proc.logRing.lines()).toContain('received SIGTERM, shutting down');
    expect(alive(proc.pid)).toBe(false);
  });

  it('SIGKILLs a stand-in server that ignores SIGTERM once timeoutMs has passed', async () => {
    const proc = await spawnStandIn(['--ignore-sigterm']);
    const started = Date.now();
    const result = await proc.stop({ timeoutMs: 300 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(result).toMatchObject({ forced: true, signal: 'SIGKILL', exitCode: null });
    expect(proc.logRing.lines()).toContain('SIGTERM ignored');
  });

  it('leaves no grandchild behind when it stops a stand-in that forked one', async () => {
    const proc = await spawnStandIn(['--fork-grandchild']);
    const line = await waitUntil(() => proc.logRing.lines().find((l) => l.startsWith('grandchild pid=')));
    const grandchild = Number(line.split('=')[1]);
    expect(alive(grandchild)).toBe(true);
    await proc.stop({ timeoutMs: 5000 });
    expect(alive(grandchild)).toBe(false);
  });

  it('SIGKILLs a grandchild that ignores SIGTERM after its parent exited', async () => {
    const proc = await spawnStandIn(['--fork-grandchild', '--grandchild-ignores-sigterm']);
    const line = await waitUntil(() => proc.logRing.lines().find((l) => l.startsWith('grandchild pid=')));
    const grandchild = Number(line.split('=')[1]);
    const result = await proc.stop({ timeoutMs: 400 });
    expect(result.exitCode).toBe(0);
    expect(result.forced).toBe(true);
    expect(alive(grandchild)).toBe(false);
  });

  it('cleans up what a stand-in leaves in its group when it exits on its own', async () => {
    const proc = await spawnStandIn(['--fork-grandchild']);
    const line = await waitUntil(() => proc.logRing.lines().find((l) => l.startsWith('grandchild pid=')));
    const grandchild = Number(line.split('=')[1]);
    const listening = proc.logRing.lines().find((l) => l.startsWith('listening on '))!;
    const response = await fetch(`http://${listening.slice('listening on '.length)}/__control`, {
      method: 'POST',
      body: JSON.stringify({ exit: 0 }),
    });
    expect(response.status).toBe(200);
    expect(await proc.exited).toMatchObject({ exitCode: 0 });
    await waitUntil(() => !alive(grandchild), 10_000, 'grandchild gone');
    expect(await proc.stop()).toMatchObject({ exitCode: 0, forced: false });
  });

  it('shares one promise between concurrent stop calls', async () => {
    const proc = await spawnStandIn([]);
    const first = proc.stop();
    const second = proc.stop({ timeoutMs: 1 });
    expect(second).toBe(first);
    expect(await second).toMatchObject({ forced: false });
  });

  it('only reports the exit when stopping a process that already exited', async () => {
    const proc = await spawnNode('process.exit(4)');
    await proc.exited;
    const started = Date.now();
    expect(await proc.stop()).toMatchObject({ exitCode: 4, signal: null, forced: false });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('kill() SIGKILLs the whole group at once', async () => {
    const proc = await spawnStandIn(['--fork-grandchild']);
    const line = await waitUntil(() => proc.logRing.lines().find((l) => l.startsWith('grandchild pid=')));
    expect(await proc.kill()).toMatchObject({ signal: 'SIGKILL' });
    expect(alive(Number(line.split('=')[1]))).toBe(false);
  });

  it('records the process while it runs and removes the record once it is gone', async () => {
    const records = new ProcessRecords(path.join(tmp, 'state-records'));
    const proc = await spawnStandIn([], { records, instanceId: 'rec-1' });
    expect(records.list()).toEqual([
      expect.objectContaining({
        pid: proc.pid,
        pgid: proc.pid,
        startTime: proc.startedAt,
        instanceId: 'rec-1',
      }),
    ]);
    await proc.stop();
    expect(records.list()).toEqual([]);
  });

  it('leaves no exit listener, ring listener, timer or handle behind after stop', async () => {
    // Warm-up: the first spawn creates lazily shared things (pino's own exit hook for its default logger).
    await (await spawnNode('')).stop();
    const exitListeners = process.listenerCount('exit');
    const count = (type: string) => process.getActiveResourcesInfo().filter((r) => r === type).length;
    // Handles of processes from earlier tests close asynchronously; start from a settled state.
    await waitUntil(() => count('ProcessWrap') === 0, 5000, 'earlier child handles closed');
    const processes = 0;
    const pipes = count('PipeWrap');
    const proc = await spawnStandIn([]);
    expect(protectedGroupCount()).toBe(1);
    expect(count('ProcessWrap')).toBe(processes + 1);
    expect(process.listenerCount('exit')).toBe(exitListeners + 1);
    await proc.stop();
    expect(protectedGroupCount()).toBe(0);
    expect(process.listenerCount('exit')).toBe(exitListeners);
    expect(proc.logRing.listenerCount).toBe(0);
    // The child's handle and its two pipes close asynchronously right after the exit.
    await waitUntil(
      () => count('ProcessWrap') === processes && count('PipeWrap') <= pipes,
      5000,
      'handles closed',
    );
  });
});

describe('spawnProcess bad input', () => {
  const notExecutable = path.join(tmp, 'not-executable');
  writeFileSync(notExecutable, '#!/bin/sh\necho should not run\n');
  chmodSync(notExecutable, 0o644);

  async function errorOf(options: Parameters<typeof spawnProcess>[0]): Promise<KernelError> {
    const records = new ProcessRecords(path.join(tmp, 'state-bad'));
    const before = childrenOf(process.pid).length;
    try {
      const proc = await spawnProcess({ ...options, records });
      spawned.push(proc);
    } catch (error) {
      expect(childrenOf(process.pid)).toHaveLength(before);
      expect(records.list()).toEqual([]);
      if (KernelError.isInstance(error)) return error;
      throw error;
    }
    throw new Error('expected spawnProcess to throw');
  }

  it('rejects a command missing from PATH with binary_not_found, before spawning', async () => {
    const error = await errorOf({ command: 'llama-server-that-does-not-exist', args: [] });
    expect(error.code).toBe('binary_not_found');
    expect(error.message).toContain('llama-server-that-does-not-exist');
    expect(error.message).toContain('PATH');
  });

  it('rejects a missing binary path with binary_not_found naming the path', async () => {
    const missing = path.join(tmp, 'bin', 'llama-server');
    const error = await errorOf({ command: missing, args: ['--port', '1'] });
    expect(error.code).toBe('binary_not_found');
    expect(error.path).toBe(missing);
  });

  it('rejects a non-executable file with binary_not_found and a chmod +x hint', async () => {
    const error = await errorOf({ command: notExecutable, args: [] });
    expect(error.code).toBe('binary_not_found');
    expect(error.path).toBe(notExecutable);
    expect(error.message).toContain('chmod +x');
  });

  it('rejects a cwd that does not exist with spawn_failed naming the path', async () => {
    const cwd = path.join(tmp, 'no-such-dir');
    const error = await errorOf({ command: process.execPath, args: ['-e', ''], cwd });
    expect(error.code).toBe('spawn_failed');
    expect(error.path).toBe(cwd);
    expect(error.message).toContain(cwd);
  });

  it('rejects a cwd that is a file with spawn_failed', async () => {
    const error = await errorOf({ command: process.execPath, args: [], cwd: notExecutable });
    expect(error.code).toBe('spawn_failed');
    expect(error.details.reason).toBe('cwd_not_directory');
  });

  it('rejects arguments that are not strings with spawn_failed naming the index', async () => {
    const error = await errorOf({ command: process.execPath, args: ['-e', 42 as unknown as string] });
    expect(error.code).toBe('spawn_failed');
    expect(error.details.index).toBe(1);
  });

  it('kills the process and fails with spawn_failed when its record cannot be written', async () => {
    const records = new ProcessRecords(path.join(notExecutable, 'state'));
    const before = childrenOf(process.pid).length;
    const error = await spawnProcess({
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      records,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(KernelError.isInstance(error) && error.code).toBe('spawn_failed');
    expect((error as KernelError).details.reason).toBe('record_failed');
    expect(childrenOf(process.pid)).toHaveLength(before);
    expect(protectedGroupCount()).toBe(0);
  });

  it('turns an operating-system spawn error into spawn_failed with the cause', async () => {
    // One argument over the kernel's per-string limit (128 KiB) makes execve fail with E2BIG.
    const error = await errorOf({ command: process.execPath, args: ['x'.repeat(200_000)] });
    expect(error.code).toBe('spawn_failed');
    expect(error.details.errno).toBe('E2BIG');
    expect(error.cause).toBeDefined();
  });
});
