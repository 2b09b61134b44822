// A third-party backend the way its author ships it: examples/custom-backend packed as a real npm package (peer
// dependency on this one), its conformance suite run from its own directory, then installed with this
// package's tarball into a fresh project whose shic.yaml uses it by package name with options, and (second
// config) through a local module by relative path. The config texts are guides/backend-packages.md's, verbatim.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realLlamaServer } from '../support/llama-fixture.js';
import { packedTarball } from '../support/packed-tarball.js';
import { waitUntil } from '../support/wait-until.js';

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLE = join(ROOT, 'examples', 'custom-backend');
const PACKAGE_FILES = [
  'package.json',
  'tsconfig.build.json',
  'index.ts',
  'command-backend.ts',
  'conformance.test.ts',
];

let work = '';
let shicTarball = '';
let consumer = '';
let env: Record<string, string> = {};

/** The fenced block of guides/backend-packages.md whose first line is `firstLine`. */
function guideBlock(firstLine: string): string {
  const guide = readFileSync(join(ROOT, 'guides', 'backend-packages.md'), 'utf8');
  const block = [...guide.matchAll(/```[a-z]*\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .find((b) => b.startsWith(firstLine));
  if (!block)
    throw new Error(`guides/backend-packages.md has no block starting with ${JSON.stringify(firstLine)}`);
  return block;
}

const npm = (cwd: string, args: string[], extra: Record<string, string> = {}) =>
  execa('npm', args, { cwd, env: { ...env, ...extra }, reject: false, timeout: 600_000, stdin: 'ignore' });

beforeAll(async () => {
  const llama = await realLlamaServer();
  shicTarball = await packedTarball();
  work = await mkdtemp(join(tmpdir(), 'shic-backend-package-'));
  env = { SHIC_LLAMA_SERVER: llama.binaryPath, LLAMA_SERVER: llama.binaryPath, MODEL: llama.modelPath };
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a backend package (examples/custom-backend) as its author ships it', () => {
  let backendTarball = '';

  it('builds, passes its own conformance suite with only its devDependencies and this package, and packs', async () => {
    const pkg = join(work, 'shic-backend-command');
    mkdirSync(pkg);
    for (const file of PACKAGE_FILES) cpSync(join(EXAMPLE, file), join(pkg, file));
    const install = await npm(pkg, ['install', '--no-audit', '--no-fund', '--no-save', shicTarball]);
    expect(install.exitCode, install.stderr).toBe(0);
    const test = await npm(pkg, ['test'], { NO_COLOR: '1' });
    const output = stripVTControlCharacters(test.stdout);
    expect(test.exitCode, `${output}\n${test.stderr}`).toBe(0);
    expect(output).toMatch(/conformance/);
    expect(output).toMatch(/Tests\s+\d+ passed/);
    expect(output).not.toMatch(/\bfailed\b/);
    const packed = await npm(pkg, ['pack', '--json', '--pack-destination', work]);
    expect(packed.exitCode, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    expect(info!.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.d.ts']),
    );
    backendTarball = join(work, info!.filename);
    // Installing this package builds better-sqlite3 from source (no prebuilt binary can be fetched here): minutes.
  }, 900_000);

  describe('installed beside this package in a fresh project', () => {
    beforeAll(async () => {
      expect(backendTarball, 'the package was packed').not.toBe('');
      consumer = join(work, 'consumer');
      mkdirSync(join(consumer, 'backends'), { recursive: true });
      writeFileSync(
        join(consumer, 'package.json'),
        JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
      );
      const install = await npm(consumer, [
        'install',
        '--no-audit',
        '--no-fund',
        shicTarball,
        backendTarball,
      ]);
      expect(install.exitCode, install.stderr).toBe(0);
      writeFileSync(join(consumer, 'shic.yaml'), guideBlock('# shic.yaml: a backend package by name'));
      writeFileSync(join(consumer, 'backends', 'my-server.mjs'), guideBlock('// backends/my-server.mjs'));
      writeFileSync(
        join(consumer, 'shic-local.yaml'),
        guideBlock('# shic-local.yaml: a backend in a local file'),
      );
    });

    const shic = (args: string[], stateDir: string) =>
      execa(process.execPath, [join(consumer, 'node_modules', '.bin', 'shic'), ...args], {
        cwd: consumer,
        env: { ...env, SHIC_STATE_DIR: stateDir },
        reject: false,
        timeout: 120_000,
      });

    it.each(['shic.yaml', 'shic-local.yaml'])(
      'serves an endpoint through %s: config check, up, ensure, a chat',
      async (config) => {
        const stateDir = join(work, `state-${config}`);
        const check = await shic(['config', 'check', config], stateDir);
        expect(check.exitCode, check.stderr).toBe(0);
        const daemon = execa(
          process.execPath,
          [join(consumer, 'node_modules', '.bin', 'shic'), 'up', config],
          {
            cwd: consumer,
            env: { ...env, SHIC_STATE_DIR: stateDir },
            reject: false,
            all: true,
          },
        );
        try {
          await waitUntil(
            async () =>
              daemon.exitCode !== null || (await shic(['health', '--json'], stateDir)).exitCode === 0,
            {
              timeoutMs: 60_000,
              intervalMs: 200,
              message: `shic up ${config} to answer`,
            },
          );
          expect(daemon.exitCode).toBeNull();
          const ensured = await shic(['ensure', 'tiny', '--json'], stateDir);
          expect(ensured.exitCode, ensured.stderr).toBe(0);
          const { endpoint } = JSON.parse(ensured.stdout) as { endpoint: { baseUrl: string } };
          const chat = await fetch(`${endpoint.baseUrl}/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              model: 'tiny',
              messages: [{ role: 'user', content: 'Hi' }],
              max_tokens: 4,
            }),
          });
          expect(chat.status).toBe(200);
          expect(((await chat.json()) as { choices: unknown[] }).choices).toHaveLength(1);
        } finally {
          daemon.kill('SIGTERM');
          const exit = await daemon;
          expect(exit.exitCode, exit.all).toBe(0);
        }
      },
    );

    it('refuses a backend of another specification version, and names where a missing package was looked for', async () => {
      writeFileSync(
        join(consumer, 'backends', 'future.mjs'),
        "export const backend = { specificationVersion: 'v2', id: 'future' };\n",
      );
      writeFileSync(
        join(consumer, 'future.yaml'),
        'deployments:\n  f:\n    backend: ./backends/future.mjs\n',
      );
      const future = await shic(['config', 'check', 'future.yaml'], join(work, 'state-future'));
      expect(future.exitCode).toBe(1);
      expect(future.stderr).toMatch(/^error \[incompatible\]: .*"v2".*"v1"/);
      writeFileSync(join(consumer, 'missing.yaml'), 'deployments:\n  m:\n    backend: shic-backend-nope\n');
      const missing = await shic(['config', 'check', 'missing.yaml'], join(work, 'state-missing'));
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toContain('error [unknown_backend]');
      expect(missing.stderr).toContain(join(consumer, 'node_modules', 'shic-backend-nope'));
    });
  });
});
