// The package as users get it: `npm pack`, installed into a fresh project with `openai`, on every supported
// Node.js major. The README's API tour runs as plain .mjs against the real llama-server and type-checks as
// strict `nodenext` TypeScript; `npx shic` runs from the install; require() and the vitest-free testing entry load.
import { copyFileSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { execa } from 'execa';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realLlamaServer } from '../support/llama-fixture.js';
import { nodeBinary } from '../support/node-binaries.js';
import { packedTarball } from '../support/packed-tarball.js';
import { waitUntil } from '../support/wait-until.js';

const ROOT = join(import.meta.dirname, '../..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
/** The Node.js majors this package supports (package.json `engines`), each proven here. */
const SUPPORTED_MAJORS = [20, 22, 24];
const NPM_CLI = realpathSync(
  join(dirname(realpathSync(process.execPath)), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
);
const NPX_CLI = join(dirname(NPM_CLI), 'npx-cli.js');

let work = '';
let tarball = '';
let llama: { binaryPath: string; modelPath: string };

/** The README's API tour: the first ```ts block after its heading. */
function readmeTour(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const after = readme.slice(readme.indexOf('## A tour of the API'));
  const code = /```ts\n([\s\S]*?)```/.exec(after)?.[1];
  if (!code) throw new Error('README.md has no ```ts block under "## A tour of the API"');
  return code;
}

beforeAll(async () => {
  llama = await realLlamaServer();
  work = await mkdtemp(join(tmpdir(), 'shic-package-'));
  // `npm pack` runs `prepare`, which builds dist/ from a clean slate (once per test run, shared).
  tarball = await packedTarball();
  const listing = await execa('tar', ['tzf', tarball]);
  const files = listing.stdout.split('\n').map((f) => f.replace(/^package\//, ''));
  expect(files).toContain('dist/src/index.js');
  expect(files).toContain('dist/src/index.d.ts');
  expect(files).toContain('dist/src/process/watchdog-process.mjs');
  expect(files).toContain('dist/backends/llama-cpp/index.js');
  expect(files).toContain('dist/backends/openai-compatible/index.js');
  for (const page of ['index.html', 'app.js', 'style.css'])
    expect(files).toContain(`dist/src/dashboard/ui/${page}`);
  // No source maps that point at sources the package does not ship, no tests, no TypeScript sources.
  expect(files.filter((f) => f.endsWith('.map') || f.startsWith('test/') || f.startsWith('src/'))).toEqual(
    [],
  );
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.each(SUPPORTED_MAJORS)('the packed package on Node.js %i', (major) => {
  let node = '';
  let project = '';
  let env: Record<string, string> = {};
  const inProject = (file: string, args: string[], timeout = 180_000) =>
    execa(file, args, { cwd: project, env, reject: false, timeout, stdin: 'ignore' });

  beforeAll(async () => {
    node = await nodeBinary(major);
    expect((await execa(node, ['--version'])).stdout).toMatch(new RegExp(`^v${major}\\.`));
    project = join(work, `node-${major}`);
    env = {
      PATH: `${dirname(node)}${delimiter}${process.env.PATH}`,
      // Native modules (better-sqlite3) build against this Node's own headers, which its package ships.
      ...(major === Number(process.versions.node.split('.')[0])
        ? {}
        : { npm_config_nodedir: dirname(dirname(node)) }),
      SHIC_LLAMA_SERVER: llama.binaryPath,
      XDG_STATE_HOME: join(project, 'state'),
    };
    await execa('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    const install = await inProject(
      node,
      [
        NPM_CLI,
        'install',
        '--no-audit',
        '--no-fund',
        tarball,
        'openai@6',
        'typescript@5.9',
        '@types/node@20',
      ],
      600_000,
    );
    expect(install.exitCode, `npm install on Node ${major}:\n${install.stderr}`).toBe(0);
    expect(install.stderr).not.toMatch(/EBADENGINE/);
  });

  it('runs the README tour as plain .mjs against the real llama-server', async () => {
    copyFileSync(llama.modelPath, join(project, 'model.gguf'));
    const js = ts.transpileModule(readmeTour(), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(project, 'tour.mjs'), js);
    const run = await inProject(node, ['tour.mjs']);
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/^protocol_match$/m);
    expect(run.stdout).toMatch(/ready in \d+ ms/);
  });

  it('type-checks the tour as strict nodenext TypeScript against the shipped declarations', async () => {
    writeFileSync(join(project, 'tour.ts'), readmeTour());
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        files: ['tour.ts'],
      }),
    );
    const check = await inProject(node, [
      join(project, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      '.',
    ]);
    expect(check.exitCode, check.stdout).toBe(0);
  });

  it('runs npx shic --help and --version without tsx', async () => {
    const help = await inProject(node, [NPX_CLI, '--no-install', 'shic', '--help']);
    expect(help.exitCode, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: shic /m);
    const version = await inProject(node, [NPX_CLI, '--no-install', 'shic', '--version']);
    expect(version.exitCode, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(PACKAGE.version);
  });

  it('runs shic up from the installed package: the dashboard page and the gateway answer', async () => {
    const stateDir = join(project, 'daemon-state');
    const daemon = execa(node, [join(project, 'node_modules/.bin/shic'), 'up', '--state-dir', stateDir], {
      cwd: project,
      env,
      reject: false,
      stdin: 'ignore',
    });
    try {
      const address = await waitUntil(
        () => {
          if (daemon.exitCode !== null) throw new Error(`shic up exited with ${daemon.exitCode}`);
          const file = join(stateDir, 'control.json');
          return existsSync(file)
            ? (JSON.parse(readFileSync(file, 'utf8')) as { url: string; gatewayUrl: string })
            : null;
        },
        { timeoutMs: 60_000, message: 'control.json of the installed shic up' },
      );
      const ui = await inProject(node, [
        join(project, 'node_modules/.bin/shic'),
        'ui',
        '--json',
        '--state-dir',
        stateDir,
      ]);
      expect(ui.exitCode, ui.stderr).toBe(0);
      const page = await fetch(`${address.url}/ui/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('shic dashboard');
      const models = await fetch(`${address.gatewayUrl}/models`);
      expect(await models.json()).toEqual({ object: 'list', data: [] });
    } finally {
      daemon.kill('SIGTERM');
      await daemon;
    }
  });

  it('loads with require() and loads /testing without vitest installed', async () => {
    const required = await inProject(node, [
      '-e',
      `const m = require('${PACKAGE.name}'); if (typeof m.createKernel !== 'function') process.exit(3);`,
    ]);
    expect(required.exitCode, required.stderr).toBe(0);
    const testing = await inProject(node, [
      '--input-type=module',
      '-e',
      `const m = await import('${PACKAGE.name}/testing'); if (typeof m.writeGguf !== 'function') process.exit(3);`,
    ]);
    expect(testing.exitCode, testing.stderr).toBe(0);
    const suite = await inProject(node, [
      '--input-type=module',
      '-e',
      `await import('${PACKAGE.name}/testing/vitest');`,
    ]);
    expect(suite.exitCode).not.toBe(0);
    expect(suite.stderr).toMatch(/vitest/);
  });
});
