import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireDaemonLock,
  createToken,
  readControlFiles,
  STATE_FILES,
  writeControlFiles,
} from '../../src/control/state-files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shic-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acquireDaemonLock', () => {
  it('refuses a second daemon on the same state directory while the first holds it', async () => {
    const stateDir = join(dir, 'state');
    const release = await acquireDaemonLock(stateDir);
    await expect(acquireDaemonLock(stateDir)).rejects.toMatchObject({ code: 'daemon_running' });
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    await release();
    const again = await acquireDaemonLock(stateDir);
    await again();
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    await writeFile(join(dir, STATE_FILES.lock), '2147483646\n');
    const release = await acquireDaemonLock(dir);
    expect((await readFile(join(dir, STATE_FILES.lock), 'utf8')).trim()).toBe(String(process.pid));
    await release();
  });
});

describe('writeControlFiles', () => {
  it('writes the address and a 32-byte base64url token readable only by the owner', async () => {
    const token = createToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    await writeControlFiles(dir, { url: 'http://127.0.0.1:1234', pid: process.pid, startedAt: 1 }, token);
    for (const name of [STATE_FILES.address, STATE_FILES.token]) {
      expect((await stat(join(dir, name))).mode & 0o777).toBe(0o600);
    }
    const read = await readControlFiles(dir);
    expect(read).toEqual({
      address: { url: 'http://127.0.0.1:1234', pid: process.pid, startedAt: 1 },
      token,
    });
  });

  it('reports a directory without a daemon as daemon_unreachable', async () => {
    await expect(readControlFiles(dir)).rejects.toMatchObject({ code: 'daemon_unreachable' });
  });
});
