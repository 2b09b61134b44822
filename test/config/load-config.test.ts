// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config texts hold literal ${ENV} references
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type ConfigIssue,
  loadConfigFile,
  parseConfigObject,
  parseConfigText,
} from '../../src/config/load-config.js';
import type { InvalidConfigError } from '../../src/errors/error-catalog.js';
import { KernelError } from '../../src/errors/kernel-error.js';
import { Secret } from '../../src/secret/secret.js';

function configError(fn: () => unknown): InvalidConfigError {
  try {
    fn();
  } catch (error) {
    expect(KernelError.isInstance(error)).toBe(true);
    return error as InvalidConfigError;
  }
  throw new Error('expected an InvalidConfigError');
}

const BAD = `control:
  port: "abc"
deployments:
  tiny:
    backend: llama-cpp
    bootSpec:
      model: ./m.gguf
    lease: { ttlMs: -3 }
    colour: red
  other:
    bootSpec: {}
`;

describe('parseConfigText', () => {
  it('names the YAML path, line and column of every invalid field', () => {
    const error = configError(() => parseConfigText(BAD, { fileName: 'shic.yaml', env: {} }));
    expect(error.code).toBe('invalid_config');
    const where = Object.fromEntries(error.issues.map((i) => [i.path, [i.line, i.column]]));
    expect(where['control.port']).toEqual([2, 9]);
    expect(where['deployments.tiny.lease.ttlMs']).toEqual([8, 21]);
    expect(where['deployments.tiny.colour']).toEqual([9, 5]);
    expect(where['deployments.other.backend']).toEqual([10, 3]);
    expect(error.message).toContain('shic.yaml:9:5 deployments.tiny.colour: unrecognized key "colour"');
    expect(error.message).toContain('shic.yaml:10:3 deployments.other.backend');
  });

  it('reports YAML syntax errors with their line', () => {
    const error = configError(() => parseConfigText('deployments:\n  a: [1,\n b', { fileName: 'x.yaml' }));
    expect(error.code).toBe('invalid_config');
    expect(error.issues[0]?.message).toMatch(/^YAML syntax/);
    expect(error.issues[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it('interpolates ${ENV} and wraps credentials in Secrets that never print', () => {
    const text =
      'deployments:\n  a:\n    backend: llama-cpp\n    bootSpec: { model: /m.gguf, apiKey: "${KEY}", ctxSize: 512 }\n    backendOptions:\n      headers: { x-auth: "tok-${KEY}" }\n';
    const { config } = parseConfigText(text, { env: { KEY: 'hunter2' } });
    const a = config.deployments.a!;
    expect(Secret.isInstance(a.bootSpec?.apiKey)).toBe(true);
    expect((a.bootSpec!.apiKey as Secret).expose()).toBe('hunter2');
    expect(((a.backendOptions.headers as Record<string, Secret>)['x-auth'] as Secret).expose()).toBe(
      'tok-hunter2',
    );
    expect(a.bootSpec?.ctxSize).toBe(512);
    expect(JSON.stringify(config)).not.toContain('hunter2');
    expect(inspect(config, { depth: 10 })).not.toContain('hunter2');
  });

  it('fails on an unset variable naming it and its place, without echoing any value', () => {
    const text =
      'deployments:\n  a:\n    backend: ollama\n    backendOptions:\n      apiKey: ${MISSING_KEY}\n';
    const error = configError(() => parseConfigText(text, { env: { OTHER: 'x' } }));
    expect(error.issues[0]).toMatchObject({
      path: 'deployments.a.backendOptions.apiKey',
      line: 5,
      column: 15,
    });
    expect(error.message).toContain('MISSING_KEY is not set');
  });

  it('uses ${NAME:-default} when the variable is unset and $$ for a literal dollar', () => {
    const text = 'deployments:\n  a:\n    backend: ollama\n    modelIdentity: "${M:-qwen}$$x"\n';
    expect(parseConfigText(text, { env: {} }).config.deployments.a?.modelIdentity).toBe('qwen$x');
  });

  it('applies defaults and resolves relative paths against the base directory', () => {
    const text =
      'stateDir: ./state\ndeployments:\n  a:\n    backend: llama-cpp\n    bootSpec: { model: ./m.gguf }\n';
    const loaded = parseConfigText(text, { baseDir: '/srv/shic', env: {} });
    expect(loaded.stateDir).toBe('/srv/shic/state');
    expect(loaded.config.control).toEqual({ host: '127.0.0.1', port: 0, bodyLimitBytes: 1048576 });
    expect(loaded.config.deployments.a).toMatchObject({ start: 'eager', lease: { ttlMs: 60000 } });
    expect(loaded.config.deployments.a?.bootSpec?.model).toBe('/srv/shic/m.gguf');
  });

  it('expands YAML anchors and aliases that are well formed', () => {
    const text =
      'deployments:\n  a: &base { backend: llama-cpp, bootSpec: { model: /m.gguf } }\n  b: *base\n';
    const { config } = parseConfigText(text, { env: {} });
    expect(config.deployments.b?.bootSpec).toEqual({ model: '/m.gguf' });
  });

  it.each([
    ['an alias without an anchor', 'a: *x', /alias \*x has no anchor &x/, 1],
    ['an alias inside its own anchored node', 'a: &x [*x]', /inside the node anchored &x/, 1],
    [
      'an alias bomb',
      `x: &a [1,1,1,1,1,1,1,1,1]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nz: [${Array(200).fill('*b').join(',')}]`,
      /too many nodes \(more than 100 alias uses\)/,
      undefined,
    ],
  ])('rejects %s as invalid_config naming the problem', (_name, text, message, line) => {
    const error = configError(() => parseConfigText(text, { env: {}, fileName: 'aliases.yaml' }));
    expect(error.code).toBe('invalid_config');
    expect(error.issues[0]?.message).toMatch(message);
    expect((error.issues[0] as ConfigIssue | undefined)?.line).toBe(line);
  });

  it('takes the state directory from SHIC_STATE_DIR when the config names none', () => {
    expect(parseConfigText('{}', { env: { SHIC_STATE_DIR: '/var/shic' } }).stateDir).toBe('/var/shic');
  });
});

describe('parseConfigObject', () => {
  it('rejects a bad deployment name with its path', () => {
    const error = configError(() => parseConfigObject({ deployments: { '-bad': { backend: 'ollama' } } }));
    expect(error.issues.map((i) => i.path)).toContain('deployments.-bad');
  });
});

describe('loadConfigFile', () => {
  it('reads a file, resolving paths against its directory, and reports a missing file as invalid_config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shic-config-'));
    try {
      const file = join(dir, 'shic.yaml');
      await writeFile(
        file,
        'deployments:\n  a:\n    backend: llama-cpp\n    bootSpec: { model: ./m.gguf }\n',
      );
      const loaded = await loadConfigFile(file, { env: {} });
      expect(loaded.file).toBe(file);
      expect(loaded.config.deployments.a?.bootSpec?.model).toBe(join(dir, 'm.gguf'));
      await expect(loadConfigFile(join(dir, 'nope.yaml'))).rejects.toMatchObject({ code: 'invalid_config' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
