import { parseInstanceSpec } from 'self-hosted-inference-core';
import { describe, expect, it } from 'vitest';
import { parseMlxBootSpec } from '../../../backends/mlx/index.js';

const spec = (fields: Record<string, unknown>) => parseInstanceSpec({ backend: 'mlx', ...fields });

describe('parseMlxBootSpec', () => {
  it('fills defaults and takes the model from bootSpec, else modelIdentity', () => {
    expect(parseMlxBootSpec(spec({ bootSpec: { model: 'a/b' } }))).toMatchObject({
      model: 'a/b',
      host: '127.0.0.1',
      extraArgs: [],
      env: {},
      allowUnsupportedPlatform: false,
      readyTimeoutMs: 600_000,
    });
    expect(parseMlxBootSpec(spec({ modelIdentity: 'c/d' })).model).toBe('c/d');
  });

  it('lets bootSpec override the backend defaults', () => {
    const parsed = parseMlxBootSpec(spec({ bootSpec: { model: 'm', host: '::1' } }), {
      host: '0.0.0.0',
      port: 9,
    });
    expect(parsed).toMatchObject({ host: '::1', port: 9 });
  });

  it('fails with invalid_boot_spec naming model when none is given', () => {
    expect(() => parseMlxBootSpec(spec({}))).toThrow(
      expect.objectContaining({
        code: 'invalid_boot_spec',
        details: { field: 'model', received: undefined },
      }),
    );
  });

  it('fails with invalid_boot_spec naming every bad field', () => {
    let caught: unknown;
    try {
      parseMlxBootSpec(spec({ bootSpec: { model: 'm', port: 70_000, extraArgs: 'x', colour: 1 } }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'invalid_boot_spec' });
    const paths = (caught as { issues: Array<{ path: string }> }).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['colour', 'extraArgs', 'port']);
  });

  it('rejects more than one launcher', () => {
    expect(() =>
      parseMlxBootSpec(spec({ bootSpec: { model: 'm', binaryPath: '/a', pythonPath: '/b' } })),
    ).toThrow(
      expect.objectContaining({
        code: 'invalid_boot_spec',
        message: expect.stringContaining('binaryPath and pythonPath'),
      }),
    );
  });

  it.each([['--port'], ['--model=x'], ['--host']])('rejects extraArgs repeating %s', (flag) => {
    expect(() =>
      parseMlxBootSpec(spec({ bootSpec: { model: 'm', extraArgs: ['--temp', '0', flag] } })),
    ).toThrow(
      expect.objectContaining({ code: 'invalid_boot_spec', details: { field: 'extraArgs', received: flag } }),
    );
  });
});
