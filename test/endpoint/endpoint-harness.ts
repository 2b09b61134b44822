// Kernels with the spawned and attached stand-in backends and custom kernel options (an injected clock,
// a short default lease TTL), plus stand-in daemons the test runs itself; `cleanup()` ends all of them.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import { createKernel } from '../../src/kernel/create-kernel.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { KernelOptions } from '../../src/kernel/kernel-options.js';
import { recordEvents, waitUntil } from '../support/lifecycle-harness.js';
import { createStandInBackend, STAND_IN_SERVER } from '../support/stand-in-backend.js';

/** A clock the test moves by hand, epoch ms. */
export function manualClock(start = Date.now()) {
  return {
    t: start,
    now(): number {
      return this.t;
    },
  };
}

/** A stand-in server the test runs itself (the "external daemon" an attached instance points at). */
export interface StandInDaemon {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export function endpointHarness() {
  const kernels: Kernel[] = [];
  const dirs: string[] = [];
  const daemons: ResultPromise[] = [];
  return {
    create(options: Omit<KernelOptions, 'backends' | 'stateDir'> = {}) {
      const stateDir = mkdtempSync(path.join(os.tmpdir(), 'shic-endpoint-'));
      dirs.push(stateDir);
      const spawned = createStandInBackend();
      const attached = createStandInBackend({ kind: 'attached' });
      const kernel = createKernel({ ...options, stateDir, backends: [spawned, attached] });
      kernels.push(kernel);
      const events = recordEvents(kernel);
      return { kernel, spawned, attached, events };
    },
    async daemon(): Promise<StandInDaemon> {
      const port = await getPort({ host: '127.0.0.1' });
      const child = execa(process.execPath, [STAND_IN_SERVER, '--port', String(port)], { reject: false });
      daemons.push(child);
      const url = `http://127.0.0.1:${port}`;
      await waitUntil(
        () =>
          fetch(`${url}/health`).then(
            (r) => r.status === 200,
            () => false,
          ),
        { message: 'the stand-in daemon to answer /health' },
      );
      return {
        url,
        pid: child.pid!,
        async stop() {
          child.kill('SIGKILL');
          await child;
        },
      };
    },
    async cleanup() {
      await Promise.all(kernels.splice(0).map((k) => k.close()));
      await Promise.all(
        daemons.splice(0).map(async (child) => {
          child.kill('SIGKILL');
          await child;
        }),
      );
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
