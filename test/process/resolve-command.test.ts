import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveCommand } from '../../src/process/resolve-command.js';
import { thrownKernelError as errorOf } from '../support/kernel-errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'resolve-command-'));
const exe = path.join(dir, 'tool');
writeFileSync(exe, '#!/bin/sh\nexit 0\n');
chmodSync(exe, 0o755);
const plain = path.join(dir, 'plain');
writeFileSync(plain, 'not a program\n');
chmodSync(plain, 0o644);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveCommand', () => {
  it('finds a program on the PATH of the given env', () => {
    expect(resolveCommand('tool', { PATH: `/nonexistent:${dir}` })).toEqual({ path: exe, fromPath: true });
  });

  it('resolves a relative path against cwd', () => {
    expect(resolveCommand('./tool', {}, dir)).toEqual({ path: exe, fromPath: false });
  });

  it('reports a program missing from PATH with binary_not_found and the directories searched', () => {
    const error = errorOf(() => resolveCommand('no-such-tool-xyz', { PATH: `${dir}:/nonexistent` }));
    expect(error.code).toBe('binary_not_found');
    expect(error.details.searched).toEqual([dir, '/nonexistent']);
    expect(error.message).toContain('no-such-tool-xyz');
    expect(error.message).toContain(dir);
  });

  it('reports a missing absolute path with binary_not_found naming the path', () => {
    const missing = path.join(dir, 'missing-binary');
    const error = errorOf(() => resolveCommand(missing));
    expect(error.code).toBe('binary_not_found');
    expect(error.path).toBe(missing);
  });

  it('reports a file without execute permission with binary_not_found and a chmod +x hint', () => {
    const error = errorOf(() => resolveCommand(plain));
    expect(error.code).toBe('binary_not_found');
    expect(error.path).toBe(plain);
    expect(error.details.reason).toBe('not_executable');
    expect(error.message).toContain(`chmod +x ${plain}`);
  });

  it('reports a non-executable file found on PATH rather than "not found"', () => {
    const error = errorOf(() => resolveCommand('plain', { PATH: dir }));
    expect(error.details.reason).toBe('not_executable');
    expect(error.path).toBe(plain);
  });

  it('rejects a directory and an empty command', () => {
    expect(errorOf(() => resolveCommand(dir)).code).toBe('binary_not_found');
    expect(errorOf(() => resolveCommand('  ')).code).toBe('binary_not_found');
  });
});
