import { randomUUID } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import {
  ConformanceViolation,
  checkReadiness,
  checkStopLeavesDaemonAlive,
  checkStopLeavesNoProcess,
  findMarkedProcesses,
} from 'self-hosted-inference-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForHealth } from '../../support/wait-for-health.js';
import { waitUntil } from '../../support/wait-until.js';
import { conformanceTestBackend, STAND_IN_SERVER } from './conformance-test-backend.js';
import { rejection, withRun } from './run-with.js';

const markers: string[] = [];
// Survivors are the point of one test: kill whatever carries a marker a test handed out.
afterEach(async () => {
  for (const marker of markers.splice(0)) {
    for (const { pid } of findMarkedProcesses(marker)) process.kill(pid, 'SIGKILL');
    await waitUntil(() => findMarkedProcesses(marker).length === 0, {
      message: `escapees of ${marker} to die`,
    });
  }
});

describe('checkStopLeavesNoProcess', () => {
  it('passes when stopInstance ends the process and its group', async () => {
    await withRun(conformanceTestBackend(), { backend: 'conformance-spawned' }, async (run) => {
      checkReadiness(run);
      await checkStopLeavesNoProcess(run);
      expect(run.kernel.listInstances()).toEqual([]);
    });
  });

  it('fails loudly when the command leaves a grandchild in another session, and lists it', async () => {
    const marker = `escapee-${randomUUID()}`;
    markers.push(marker);
    const backend = conformanceTestBackend({ escapeMarker: marker });
    await withRun(backend, { backend: 'conformance-spawned' }, async (run) => {
      checkReadiness(run);
      // The server's argv carries the marker too; the escapee is the `node -e` one.
      const escapee = await waitUntil(
        () => findMarkedProcesses(marker).find((p) => p.command.includes(' -e ')),
        { message: 'the escaped grandchild' },
      );
      const error = await rejection(checkStopLeavesNoProcess(run));
      expect(error).toBeInstanceOf(ConformanceViolation);
      expect(error.message).toContain(
        'Backend conformance rule "stop-leaves-no-process" failed for backend "conformance-spawned": 1 process(es) outlived stopInstance',
      );
      expect(error.message).toContain('1 carrying the run marker outside it');
      expect(error.message).toContain(marker);
      expect((error as ConformanceViolation).seen).toMatchObject({ survivors: [escapee.pid] });
      // The kernel's own process is gone: only the escapee survived.
      expect(error.message).toContain(`pid ${run.snapshot!.pid} gone`);
    });
  });
});

describe('checkStopLeavesDaemonAlive', () => {
  let daemon: ResultPromise | undefined;
  afterEach(async () => {
    daemon?.kill('SIGKILL');
    await daemon;
    daemon = undefined;
  });

  async function startDaemon(): Promise<string> {
    const port = await getPort();
    daemon = execa(process.execPath, [STAND_IN_SERVER, '--port', String(port)], {
      stdio: 'ignore',
      reject: false,
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url, { message: 'the stand-in daemon' });
    return url;
  }

  it('passes when stop and close leave the attached daemon running (stand-in daemon)', async () => {
    const url = await startDaemon();
    const backend = conformanceTestBackend({ kind: 'attached' });
    await withRun(
      backend,
      { backend: 'conformance-attached', backendOptions: { url } },
      async (run) => {
        checkReadiness(run);
        await checkStopLeavesDaemonAlive(run);
      },
      'attached',
    );
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('fails loudly when stopping the instance takes the daemon down (stand-in daemon)', async () => {
    const url = await startDaemon();
    const backend = conformanceTestBackend({ kind: 'attached', killDaemonOnStop: true });
    await withRun(
      backend,
      { backend: 'conformance-attached', backendOptions: { url } },
      async (run) => {
        checkReadiness(run);
        const error = await rejection(checkStopLeavesDaemonAlive(run));
        expect(error.message).toContain(
          'Backend conformance rule "stop-leaves-daemon-alive" failed for backend "conformance-attached": after stopInstance and kernel.close() the daemon no longer answers',
        );
      },
      'attached',
    );
  });
});
