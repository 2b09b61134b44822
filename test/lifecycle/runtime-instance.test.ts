import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { httpProbe } from '../../src/http/http-probe.js';
import { eventsOf, isAlive, kernelHarness, rejectionOf, waitUntil } from '../support/lifecycle-harness.js';
import { createStandInBackend, STAND_IN_SERVER } from '../support/stand-in-backend.js';

const harness = kernelHarness();
afterEach(() => harness.cleanup());

const standIn = (bootSpec: Record<string, unknown>) => ({ backend: 'stand-in', bootSpec });

describe('RuntimeInstance', () => {
  it('becomes ready after the stand-in finishes loading and publishes its endpoint', async () => {
    const { kernel, events } = harness.create();
    const { instance, reused } = await kernel.ensureInstance(standIn({ flags: ['--ready-after-ms', '300'] }));
    expect(reused).toBe(false);
    expect(instance.state).toBe('ready');
    expect(instance.health).toBe('healthy');
    expect(instance.instanceId).toMatch(/^stand-in-[0-9a-f]{8}$/);
    expect(isAlive(instance.pid!)).toBe(true);
    expect(instance.endpoint?.baseUrl).toBe(`http://127.0.0.1:${instance.port}/v1`);
    expect(instance.endpoint?.endpointId).toBe(`${instance.instanceId}:endpoint`);
    expect(instance.endpoint?.sourceRuntime).toBe('stand-in');
    expect(instance.endpoint?.healthRef).toBe(instance.instanceId);
    expect(instance.timings.readyMs).toBeGreaterThanOrEqual(250);
    expect(kernel.instanceLogs(instance.instanceId)).toContain('ready');
    const types = events.filter((e) => e.type.startsWith('instance.')).map((e) => e.type);
    expect(types).toEqual(['instance.starting', 'instance.spawned', 'instance.ready']);
    const health = await httpProbe(`http://127.0.0.1:${instance.port}/health`);
    expect(health.status).toBe(200);
  });

  it('fails with process_exited and the last log lines as soon as the stand-in exits early', async () => {
    const { kernel, events } = harness.create();
    const readyTimeoutMs = 30_000;
    const began = Date.now();
    const error = await rejectionOf(
      kernel.ensureInstance(standIn({ flags: ['--exit-early', '3'] }), { readyTimeoutMs }),
    );
    expect(Date.now() - began).toBeLessThan(readyTimeoutMs / 2);
    expect(error.code).toBe('process_exited');
    expect(error.exitCode).toBe(3);
    expect(error.lastLogLines).toContain('stand-in: exiting early with code 3');
    const failed = eventsOf(events, 'instance.failed');
    expect(failed.map((e) => e.error.code)).toEqual(['process_exited']);
    const snapshot = kernel.listInstances()[0];
    expect(snapshot?.state).toBe('failed');
    expect(snapshot?.lastError?.code).toBe('process_exited');
  });

  it('fails with readiness_timeout when the stand-in never becomes ready, and stops it', async () => {
    const { kernel, events } = harness.create();
    const error = await rejectionOf(
      kernel.ensureInstance(
        standIn({ flags: ['--ready-after-ms', '600000'], plan: { readyTimeoutMs: 800, stallTimeoutMs: 0 } }),
      ),
    );
    expect(error.code).toBe('readiness_timeout');
    expect((error.details as Record<string, unknown>).reason).toBe('timeout');
    const pid = eventsOf(events, 'instance.spawned')[0]!.pid;
    expect(isAlive(pid)).toBe(false);
  });

  it('fails with readiness_timeout (reason stalled) when the stand-in prints nothing and probes do not change', async () => {
    const { kernel, events } = harness.create();
    const error = await rejectionOf(
      kernel.ensureInstance(
        standIn({
          flags: ['--ready-after-ms', '600000'],
          plan: { stallTimeoutMs: 500, readyTimeoutMs: 30_000 },
        }),
      ),
    );
    expect(error.code).toBe('readiness_timeout');
    expect((error.details as Record<string, unknown>).reason).toBe('stalled');
    expect(isAlive(eventsOf(events, 'instance.spawned')[0]!.pid)).toBe(false);
  });

  it('keeps a slow load that keeps printing progress alive past the stall deadline', async () => {
    const { kernel, events } = harness.create();
    const { instance } = await kernel.ensureInstance(
      standIn({
        flags: ['--ready-after-ms', '3000', '--progress-every-ms', '100'],
        plan: { stallTimeoutMs: 1000, readinessIntervalMs: 200, readinessMaxIntervalMs: 200 },
      }),
    );
    expect(instance.state).toBe('ready');
    expect(instance.timings.readyMs).toBeGreaterThanOrEqual(3000);
    expect(eventsOf(events, 'instance.progress').length).toBeGreaterThan(0);
  });

  it('fails with aborted when the caller aborts, and the stand-in process is gone', async () => {
    const { kernel, events } = harness.create();
    const controller = new AbortController();
    const ensuring = kernel.ensureInstance(standIn({ flags: ['--ready-after-ms', '600000'] }), {
      signal: controller.signal,
    });
    const spawned = await waitUntil(() => eventsOf(events, 'instance.spawned')[0], { message: 'spawn' });
    controller.abort();
    const error = await rejectionOf(ensuring);
    expect(error.code).toBe('aborted');
    await waitUntil(() => !isAlive(spawned.pid), { message: 'stand-in gone' });
    await waitUntil(() => eventsOf(events, 'instance.stopped')[0], { message: 'instance.stopped' });
    expect(eventsOf(events, 'instance.stopped')[0]?.reason).toBe('aborted');
    expect(kernel.listInstances()).toEqual([]);
  });

  it('turns degraded after consecutive failed health checks and ready again when the stand-in recovers', async () => {
    const { kernel, events } = harness.create();
    const { instance } = await kernel.ensureInstance(standIn({}));
    const control = (health: number | null) =>
      httpProbe(`http://127.0.0.1:${instance.port}/__control`, { json: { health } });
    await control(500);
    await waitUntil(() => kernel.lookupInstance(instance.instanceId)?.state === 'degraded', {
      message: 'degraded',
    });
    expect(kernel.lookupInstance(instance.instanceId)?.health).toBe('unavailable');
    expect(kernel.lookupInstance(instance.instanceId)?.healthDetail).toBe('health 500');
    expect(eventsOf(events, 'instance.degraded')[0]?.consecutiveFailures).toBe(2);
    expect(eventsOf(events, 'probe.failed').length).toBeGreaterThanOrEqual(2);
    await control(null);
    await waitUntil(() => kernel.lookupInstance(instance.instanceId)?.state === 'ready', {
      message: 'recovered',
    });
    expect(kernel.lookupInstance(instance.instanceId)?.health).toBe('healthy');
    expect(eventsOf(events, 'instance.recovered')).toHaveLength(1);
  });

  it('restarts a crashed stand-in with backoff: exited, restarting, starting, ready', async () => {
    const { kernel, events } = harness.create();
    const { instance } = await kernel.ensureInstance(standIn({ flags: ['--crash-after-ms', '400'] }));
    const id = instance.instanceId;
    await waitUntil(() => eventsOf(events, 'instance.ready', id).length >= 2, { message: 'second ready' });
    const firstReady = events.findIndex((e) => e.type === 'instance.ready');
    const after = events
      .slice(firstReady + 1)
      .filter((e) =>
        ['instance.exited', 'instance.restarting', 'instance.starting', 'instance.ready'].includes(e.type),
      )
      .slice(0, 4);
    expect(after.map((e) => e.type)).toEqual([
      'instance.exited',
      'instance.restarting',
      'instance.starting',
      'instance.ready',
    ]);
    const exited = eventsOf(events, 'instance.exited', id)[0]!;
    expect(exited.expected).toBe(false);
    expect(exited.exitCode).toBe(1);
    const restarting = eventsOf(events, 'instance.restarting', id)[0]!;
    expect(restarting.restart).toBe(1);
    expect(restarting.delayMs).toBeGreaterThan(0);
    expect(restarting.delayMs).toBeLessThanOrEqual(20);
    expect(kernel.lookupInstance(id)?.restarts).toBeGreaterThanOrEqual(1);
    expect(isAlive(exited.pid!)).toBe(false);
    await kernel.stopInstance(id);
  });

  it('fails with crash_loop after too many crashes and fails fast for the next ensure until stopped', async () => {
    const { kernel, events } = harness.create();
    const spec = standIn({
      flags: ['--crash-after-ms', '30'],
      plan: { restartPolicy: { maxRestarts: 2, backoffBaseMs: 10, windowMs: 60_000 } },
    });
    const { instance } = await kernel.ensureInstance(spec);
    const failed = await waitUntil(() => eventsOf(events, 'instance.failed')[0], { message: 'failed' });
    expect(failed.error.code).toBe('crash_loop');
    expect(eventsOf(events, 'instance.restarting')).toHaveLength(2);
    expect(kernel.lookupInstance(instance.instanceId)?.state).toBe('failed');
    const spawnsBefore = eventsOf(events, 'instance.spawned').length;
    const error = await rejectionOf(kernel.ensureInstance(spec));
    expect(error.code).toBe('crash_loop');
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(spawnsBefore);
    for (const spawned of eventsOf(events, 'instance.spawned')) expect(isAlive(spawned.pid)).toBe(false);

    await kernel.stopInstance(instance.instanceId);
    expect(kernel.lookupInstance(instance.instanceId)).toBeUndefined();
    const fresh = await kernel.ensureInstance(standIn({ plan: { restartPolicy: { mode: 'never' } } }));
    expect(fresh.instance.instanceId).not.toBe(instance.instanceId);
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(spawnsBefore + 1);
  });

  it('fails at once when the restart policy says never', async () => {
    const { kernel, events } = harness.create();
    await kernel.ensureInstance(
      standIn({ flags: ['--crash-after-ms', '50'], plan: { restartPolicy: { mode: 'never' } } }),
    );
    const failed = await waitUntil(() => eventsOf(events, 'instance.failed')[0], { message: 'failed' });
    expect(failed.error.code).toBe('process_exited');
    expect(eventsOf(events, 'instance.restarting')).toHaveLength(0);
  });

  it('retries on a new port when the stand-in loses the bind race', async () => {
    const { kernel, events } = harness.create();
    const { instance } = await kernel.ensureInstance(standIn({ name: 'bind', addressInUseAttempts: 1 }));
    expect(instance.state).toBe('ready');
    const starts = eventsOf(events, 'instance.starting');
    expect(starts).toHaveLength(2);
    expect(starts[0]!.port).not.toBe(starts[1]!.port);
    expect(instance.port).toBe(starts[1]!.port);
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(2);
  });

  it('gives up with port_unavailable after plan.portRetries lost bind races', async () => {
    const { kernel, events } = harness.create();
    const error = await rejectionOf(
      kernel.ensureInstance(standIn({ name: 'nobind', addressInUseAttempts: 99, plan: { portRetries: 2 } })),
    );
    expect(error.code).toBe('port_unavailable');
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(3);
    for (const spawned of eventsOf(events, 'instance.spawned')) expect(isAlive(spawned.pid)).toBe(false);
  });

  it('detects a lost bind race from the exit output when the backend does not report it', async () => {
    const { kernel, events } = harness.create();
    kernel.registerBackend(createStandInBackend({ id: 'stand-in-quiet', quiet: true }));
    const { instance } = await kernel.ensureInstance({
      backend: 'stand-in-quiet',
      bootSpec: { name: 'quiet-bind', addressInUseAttempts: 1 },
    });
    expect(instance.state).toBe('ready');
    const starts = eventsOf(events, 'instance.starting');
    expect(starts).toHaveLength(2);
    expect(eventsOf(events, 'instance.exited')[0]).toMatchObject({ exitCode: 1, expected: false });
    expect(instance.port).toBe(starts[1]!.port);
  });

  it('fails with binary_not_found naming the path, before anything is spawned', async () => {
    const { kernel, events } = harness.create();
    const error = await rejectionOf(
      kernel.ensureInstance(
        standIn({ plan: { transport: { command: '/nonexistent/dir/llama-server', args: ['--port', '1'] } } }),
      ),
    );
    expect(error.code).toBe('binary_not_found');
    expect(error.path).toBe('/nonexistent/dir/llama-server');
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(0);
    expect(eventsOf(events, 'instance.failed')[0]?.error.code).toBe('binary_not_found');
  });

  it('fails with spawn_failed naming a missing cwd, before anything is spawned', async () => {
    const { kernel, events } = harness.create();
    const error = await rejectionOf(
      kernel.ensureInstance(
        standIn({
          plan: {
            transport: { command: process.execPath, args: [STAND_IN_SERVER], cwd: '/nonexistent/cwd' },
          },
        }),
      ),
    );
    expect(error.code).toBe('spawn_failed');
    expect(error.path).toBe('/nonexistent/cwd');
    expect(eventsOf(events, 'instance.spawned')).toHaveLength(0);
  });

  it('cancels a pending restart when the instance is stopped during the backoff', async () => {
    const { kernel, events } = harness.create();
    const { instance } = await kernel.ensureInstance(
      standIn({
        flags: ['--crash-after-ms', '50'],
        plan: { restartPolicy: { backoffBaseMs: 600_000, backoffMaxMs: 600_000, jitter: 0 } },
      }),
    );
    const restarting = await waitUntil(() => eventsOf(events, 'instance.restarting')[0], {
      message: 'restarting',
    });
    expect(restarting.delayMs).toBe(600_000);
    expect(kernel.lookupInstance(instance.instanceId)?.state).toBe('starting');
    await kernel.stopInstance(instance.instanceId);
    expect(eventsOf(events, 'instance.stopped')[0]?.reason).toBe('requested');
    expect(eventsOf(events, 'instance.starting')).toHaveLength(1);
    expect(kernel.listInstances()).toEqual([]);
  });

  it('SIGKILLs a SIGTERM-ignoring stand-in after stopTimeoutMs', async () => {
    const { kernel, events } = harness.create();
    const { instance } = await kernel.ensureInstance(
      standIn({ flags: ['--ignore-sigterm'], plan: { stopTimeoutMs: 300 } }),
    );
    await kernel.stopInstance(instance.instanceId);
    expect(isAlive(instance.pid!)).toBe(false);
    const exited = eventsOf(events, 'instance.exited', instance.instanceId)[0]!;
    expect(exited).toMatchObject({ expected: true, signal: 'SIGKILL' });
    expect(eventsOf(events, 'instance.stopped')[0]?.reason).toBe('requested');
    expect(kernel.lookupInstance(instance.instanceId)).toBeUndefined();
  });

  it('keeps an attached stand-in daemon that disappears degraded/unavailable, never stops or signals it', async () => {
    const { kernel, events } = harness.create();
    const daemon = execa(process.execPath, [STAND_IN_SERVER, '--port', '0'], { reject: false });
    try {
      const port = await new Promise<number>((resolve) => {
        daemon.stdout?.on('data', (chunk: Buffer) => {
          const match = /listening on 127\.0\.0\.1:(\d+)/.exec(chunk.toString());
          if (match) resolve(Number(match[1]));
        });
      });
      const url = `http://127.0.0.1:${port}`;
      const spec = { backend: 'stand-in-attached', backendOptions: { url } };

      const first = await kernel.ensureInstance(spec);
      expect(first.instance).toMatchObject({ state: 'ready', managementMode: 'externally_managed' });
      expect(first.instance.pid).toBeUndefined();
      expect(first.instance.endpoint?.sourceRuntimeRef).toBe(url);
      await kernel.stopInstance(first.instance.instanceId);
      expect(eventsOf(events, 'instance.stopped')[0]?.reason).toBe('requested');
      expect((await httpProbe(`${url}/health`)).status).toBe(200);

      const { instance } = await kernel.ensureInstance(spec);
      expect(instance.instanceId).not.toBe(first.instance.instanceId);
      daemon.kill('SIGKILL');
      const result = await daemon;
      expect(result.signal).toBe('SIGKILL');
      await waitUntil(() => kernel.lookupInstance(instance.instanceId)?.state === 'degraded', {
        message: 'degraded',
      });
      const snapshot = kernel.lookupInstance(instance.instanceId)!;
      expect(snapshot.health).toBe('unavailable');
      expect(eventsOf(events, 'instance.degraded', instance.instanceId)).toHaveLength(1);
      expect(eventsOf(events, 'instance.exited')).toHaveLength(0);
      expect(eventsOf(events, 'instance.restarting')).toHaveLength(0);
      expect(eventsOf(events, 'instance.stopped', instance.instanceId)).toHaveLength(0);
    } finally {
      daemon.kill('SIGKILL');
      await daemon;
    }
  });

  it('leaves an attached stand-in daemon running when the kernel closes', async () => {
    const { kernel, events } = harness.create();
    const daemon = execa(process.execPath, [STAND_IN_SERVER, '--port', '0'], { reject: false });
    try {
      const port = await new Promise<number>((resolve) => {
        daemon.stdout?.on('data', (chunk: Buffer) => {
          const match = /listening on 127\.0\.0\.1:(\d+)/.exec(chunk.toString());
          if (match) resolve(Number(match[1]));
        });
      });
      const { instance } = await kernel.ensureInstance({
        backend: 'stand-in-attached',
        backendOptions: { url: `http://127.0.0.1:${port}` },
      });
      await kernel.close();
      expect(eventsOf(events, 'instance.stopped', instance.instanceId)[0]?.reason).toBe('close');
      expect(daemon.exitCode).toBeNull();
      expect((await httpProbe(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      daemon.kill('SIGKILL');
      const result = await daemon;
      expect(result.signal).toBe('SIGKILL');
    }
  });
});
