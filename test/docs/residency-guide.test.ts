// guides/residency.md's "Try it", run verbatim from the repository root: three chat models, memory for two. The
// third waits for the first one's lease to end, evicts it and loads. Events are followed alongside, as the guide
// suggests, to check the decisions it describes.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readControlFiles } from '../../src/control/state-files.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { commandLines } from '../support/markdown-commands.js';
import { waitUntil } from '../support/wait-until.js';

const ROOT = join(import.meta.dirname, '../..');
const STATE = join(ROOT, 'examples', '.shic-residency');
let xdgState = '';
const background: ResultPromise[] = [];

beforeAll(async () => {
  await realLlamaServer();
  xdgState = await mkdtemp(join(tmpdir(), 'shic-residency-guide-'));
}, 900_000);

afterAll(async () => {
  for (const child of background)
    if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  await Promise.all(background);
  await rm(xdgState, { recursive: true, force: true });
  await rm(STATE, { recursive: true, force: true });
});

describe('guides/residency.md', () => {
  it('runs "Try it" verbatim: chat-c waits for memory, chat-a is evicted when its lease ends', async () => {
    const lines = commandLines('guides/residency.md', '## Try it');
    expect(lines.map((l) => l.slice(0, 3).join(' '))).toEqual([
      'npx shic tiny-model',
      'npx shic up',
      'npx shic ensure',
      'npx shic ensure',
      'npx shic ensure',
      'npx shic ps',
    ]);
    const env = { XDG_STATE_HOME: xdgState, SHIC_STATE_DIR: '' };
    const spawn = (argv: string[]) => {
      const child = execa(argv[0]!, argv.slice(1), {
        cwd: ROOT,
        env,
        reject: false,
        all: true,
        detached: true,
      });
      background.push(child);
      let output = '';
      child.all?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      return { child, output: () => output };
    };
    let events: ReturnType<typeof spawn> | undefined;
    let ps = '';
    for (const argv of lines) {
      if (argv[2] === 'up') {
        const up = spawn(argv);
        await waitUntil(() => existsSync(join(STATE, 'control.json')) || up.child.exitCode !== null, {
          timeoutMs: 120_000,
          message: '`shic up` to write its control file',
        });
        expect(up.child.exitCode, up.output()).toBeNull();
        events = spawn(['npx', 'shic', 'events', '--json']);
        // Connected once the daemon counts an open event stream.
        const { address, token } = await readControlFiles(STATE);
        await waitUntil(
          async () => {
            const res = await request(`${address.url}/metrics`, {
              headers: { authorization: `Bearer ${token}` },
            });
            return /^shic_control_streams_open 1$/m.test(await res.body.text());
          },
          { message: '`shic events` to be connected' },
        );
        continue;
      }
      const result = await execa(argv[0]!, argv.slice(1), {
        cwd: ROOT,
        env,
        reject: false,
        timeout: 300_000,
        stdin: 'ignore',
      });
      expect(result.exitCode, `${argv.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
      if (argv[2] === 'ps') ps = result.stdout;
    }
    expect(ps).toMatch(/chat-b.*\d+ MiB measured/);
    expect(ps).toMatch(/chat-c.*\d+ MiB measured/);
    expect(ps).not.toMatch(/chat-a/);

    const decoded = () =>
      events!
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitUntil(
      () =>
        decoded().some(
          (e) => e.type === 'residency.admitted' && e.evicted && (e.evicted as string[]).length > 0,
        ),
      {
        message: 'the admission of chat-c with an eviction',
      },
    );
    const seen = decoded();
    const deploymentOf = (id: unknown) =>
      seen.find((e) => e.instanceId === id && e.type === 'instance.starting');
    const queued = seen.find((e) => e.type === 'residency.queued') as { blocking: Array<{ reason: string }> };
    expect(queued.blocking.map((h) => h.reason)).toEqual(['leased', 'leased']);
    const evicting = seen.find((e) => e.type === 'residency.evicting')!;
    expect(evicting.reason).toBe('memory');
    expect(seen.findIndex((e) => e.type === 'lease.expired')).toBeLessThan(seen.indexOf(evicting));
    expect(seen).toContainEqual(
      expect.objectContaining({
        type: 'instance.stopped',
        instanceId: evicting.instanceId,
        reason: 'evicted',
      }),
    );
    expect(deploymentOf(evicting.instanceId)).toBeDefined();
  }, 600_000);
});
