// The README's and guides/cli.md's quick starts, run literally: every `$ ` line of the guide's Quick start block
// and the README's `npm run demo`, as a user types them, from the repository root. The daemon's default state
// directory is redirected to a temporary one (XDG_STATE_HOME) so the test never touches the user's.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realLlamaServer } from '../support/llama-fixture.js';
import { commandLines } from '../support/markdown-commands.js';
import { waitUntil } from '../support/wait-until.js';

const ROOT = join(import.meta.dirname, '../..');
let xdgState = '';
let daemon: ResultPromise | undefined;

beforeAll(async () => {
  await realLlamaServer(); // builds llama-server into the cache once, where `shic llama-server build` finds it
  xdgState = await mkdtemp(join(tmpdir(), 'shic-quick-start-'));
});

/** Whether any process of the group led by `pgid` still runs. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  if (daemon?.pid && groupAlive(daemon.pid)) process.kill(-daemon.pid, 'SIGKILL');
  await daemon;
  await rm(xdgState, { recursive: true, force: true });
  await rm(join(ROOT, 'examples', '.shic-state'), { recursive: true, force: true });
});

describe('guides/cli.md quick start', () => {
  it('runs verbatim: build, tiny model, up, ensure → an endpoint that answers, with a generated API key', async () => {
    const lines = commandLines('guides/cli.md', 'Quick start');
    expect(lines.map((l) => l.slice(0, 3).join(' '))).toEqual([
      'npx shic llama-server',
      'npx shic tiny-model',
      'npx shic up',
      'npx shic ensure',
    ]);
    const env = { XDG_STATE_HOME: xdgState, SHIC_STATE_DIR: '' };
    const run = (argv: string[]) =>
      execa(argv[0]!, argv.slice(1), { cwd: ROOT, env, reject: false, timeout: 900_000, stdin: 'ignore' });
    for (const argv of lines) {
      if (argv[2] === 'up') {
        // Its own process group, stopped the way Ctrl-C stops it: SIGINT to the whole group (npx and shic).
        const child = execa(argv[0]!, argv.slice(1), {
          cwd: ROOT,
          env,
          reject: false,
          all: true,
          detached: true,
        });
        daemon = child;
        let output = '';
        child.all?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        await waitUntil(() => /^ready tiny-llama /m.test(output) || child.exitCode !== null, {
          timeoutMs: 120_000,
          intervalMs: 100,
          message: '`shic up examples/shic.yaml` to print "ready tiny-llama"',
        });
        expect(child.exitCode, output).toBeNull();
        continue;
      }
      const result = await run(argv);
      expect(result.exitCode, `${argv.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
      if (argv[2] !== 'ensure') continue;
      const { endpoint } = JSON.parse(result.stdout) as {
        endpoint: { baseUrl: string; modelIdentity: string; headers: { authorization: string } };
      };
      // `apiKey: ${LLAMA_API_KEY:-generate}` must give a random key, never the literal "generate".
      const key = endpoint.headers.authorization.replace(/^Bearer /, '');
      expect(key).not.toBe('generate');
      expect(key).toMatch(/^[A-Za-z0-9_-]{32}$/);
      const client = new OpenAI({ baseURL: endpoint.baseUrl, apiKey: key });
      const reply = await client.chat.completions.create({
        model: endpoint.modelIdentity,
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 4,
      });
      expect(reply.choices[0]?.message).toBeDefined();
      await expect(
        new OpenAI({ baseURL: endpoint.baseUrl, apiKey: 'generate', maxRetries: 0 }).models.list(),
      ).rejects.toThrow(/401/);
    }
    process.kill(-daemon!.pid!, 'SIGINT');
    await daemon;
    await waitUntil(() => !groupAlive(daemon!.pid!), { timeoutMs: 30_000, message: 'the daemon to exit' });
    expect(existsSync(join(ROOT, 'examples', '.shic-state', 'control.json'))).toBe(false);
  });
});

describe('README quick start', () => {
  it('opens with exactly the two command lines, and the first (the demo) runs', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1]?.trim().split('\n');
    expect(block).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
    // `npm ci` would replace the node_modules this very test runs from: run the rest of the line.
    const demo = await execa('npm', ['run', 'demo'], {
      cwd: ROOT,
      env: { XDG_STATE_HOME: xdgState },
      reject: false,
      timeout: 600_000,
      stdin: 'ignore',
    });
    expect(demo.exitCode, `${demo.stdout}\n${demo.stderr}`).toBe(0);
    expect(demo.stdout).toMatch(/instance\.ready/);
    expect(demo.stdout).toMatch(/instance\.stopped\s+reason: idle/);
  });
});
