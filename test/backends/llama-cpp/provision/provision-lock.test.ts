import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withProvisionLock } from '../../../../backends/llama-cpp/provision/provision-lock.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shic-lock-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('withProvisionLock', () => {
  it('runs concurrent holders one after another, the second waiting for the first', async () => {
    const events: string[] = [];
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      firstStarted = resolve;
    });
    const first = withProvisionLock(dir, async () => {
      events.push('first:start');
      firstStarted();
      await firstMayFinish;
      events.push('first:end');
    });
    await started;
    let waited = false;
    const second = withProvisionLock(dir, async () => events.push('second'), {
      onWait: () => {
        waited = true;
        releaseFirst();
      },
    });
    await Promise.all([first, second]);
    expect(waited).toBe(true);
    expect(events).toEqual(['first:start', 'first:end', 'second']);
  });

  it('takes over a lock left behind by a dead process', async () => {
    const lockDir = join(dir, 'stale', '.provision.lock');
    await mkdir(lockDir, { recursive: true });
    await writeFile(join(lockDir, 'owner.json'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname() }));
    await expect(withProvisionLock(join(dir, 'stale'), async () => 'ran')).resolves.toBe('ran');
  });

  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    let release!: () => void;
    let holding!: () => void;
    const isHeld = new Promise<void>((resolve) => {
      holding = resolve;
    });
    const held = withProvisionLock(
      dir,
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
          holding();
        }),
    );
    await isHeld;
    const waiting = withProvisionLock(dir, async () => 'never', {
      signal: controller.signal,
      onWait: () => controller.abort(new Error('gave up')),
    });
    await expect(waiting).rejects.toThrow('gave up');
    release();
    await held;
  });
});
