import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvisionError } from '../../../../backends/llama-cpp/provision/provision-error.js';
import { closeLog, openLog, runLogged } from '../../../../backends/llama-cpp/provision/run-logged.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shic-run-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('runLogged', () => {
  it('streams lines to onLine and fails with the log file and its last lines', async () => {
    const logPath = join(dir, 'fail.log');
    const log = openLog(logPath);
    const lines: string[] = [];
    const script = 'console.log("one"); console.error("two"); process.exit(3)';
    const error = (await runLogged(process.execPath, ['-e', script], log, logPath, {
      phase: 'build',
      onLine: (line) => lines.push(line),
    }).catch((e: unknown) => e)) as ProvisionError;
    await closeLog(log);
    expect(lines).toEqual(expect.arrayContaining(['one', 'two']));
    expect(ProvisionError.isInstance(error)).toBe(true);
    expect(error.code).toBe('provision_failed');
    expect(error.logFile).toBe(logPath);
    expect(error.lastLines).toEqual(expect.arrayContaining(['one', 'two']));
    expect(error.message).toContain(logPath);
  });

  it('kills the process group when the signal aborts', async () => {
    const logPath = join(dir, 'abort.log');
    const log = openLog(logPath);
    const controller = new AbortController();
    const script = 'console.log("started"); setInterval(() => {}, 1000)';
    const run = runLogged(process.execPath, ['-e', script], log, logPath, {
      phase: 'build',
      signal: controller.signal,
      onLine: (line) => line === 'started' && controller.abort(new Error('stop')),
    });
    await expect(run).rejects.toThrow(/was aborted/);
    await closeLog(log);
  });
});
