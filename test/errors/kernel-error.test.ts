import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KernelError } from '../../src/errors/kernel-error.js';

describe('KernelError', () => {
  it('carries code, message, context fields and a non-retryable default', () => {
    const error = new KernelError('some_code', 'Something failed.', {
      instanceId: 'inst-1',
      backend: 'llama-cpp',
      path: '/models/m.gguf',
      lastLogLines: ['line 1', 'line 2'],
      details: { port: 8080 },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'KernelError',
      code: 'some_code',
      message: 'Something failed.',
      retryable: false,
      instanceId: 'inst-1',
      backend: 'llama-cpp',
      path: '/models/m.gguf',
      lastLogLines: ['line 1', 'line 2'],
      details: { port: 8080 },
    });
    expect(error.stack).toContain('Something failed.');
  });

  it('uses the retryable argument as the default and lets context.retryable override it', () => {
    expect(new KernelError('c', 'm', {}, true).retryable).toBe(true);
    expect(new KernelError('c', 'm', { retryable: false }, true).retryable).toBe(false);
    expect(new KernelError('c', 'm', { retryable: true }).retryable).toBe(true);
  });

  it('passes cause through as the standard Error cause, and leaves it unset otherwise', () => {
    const root = new Error('ECONNREFUSED');
    const error = new KernelError('c', 'm', { cause: root });
    expect(error.cause).toBe(root);
    expect(inspect(error)).toContain('ECONNREFUSED');
    expect('cause' in new KernelError('c', 'm')).toBe(false);
  });

  it('recognizes its own instances and an error from a second copy of the package by the Symbol.for marker', () => {
    expect(KernelError.isInstance(new KernelError('c', 'm'))).toBe(true);
    const fromSecondCopy = Object.assign(new Error('m'), {
      code: 'c',
      [Symbol.for('self-hosted-inference-core.kernel-error')]: true,
    });
    expect(fromSecondCopy instanceof KernelError).toBe(false);
    expect(KernelError.isInstance(fromSecondCopy)).toBe(true);
  });

  it('rejects look-alikes without the marker', () => {
    for (const value of [
      new Error('m'),
      { code: 'c', message: 'm', retryable: false },
      { [Symbol.for('self-hosted-inference-core.kernel-error')]: 'yes' },
      null,
      undefined,
      'KernelError',
    ]) {
      expect(KernelError.isInstance(value)).toBe(false);
    }
  });

  it('serializes to a JSON-safe shape without undefined context fields or the cause', () => {
    const bare = new KernelError('c', 'm', { cause: new Error('secret cause') });
    expect(bare.toJSON()).toEqual({
      name: 'KernelError',
      code: 'c',
      message: 'm',
      retryable: false,
      details: {},
    });
    const full = new KernelError('c', 'm', {
      instanceId: 'i',
      backend: 'b',
      path: '/p',
      lastLogLines: ['x'],
      details: { a: 1 },
    });
    expect(JSON.parse(JSON.stringify(full))).toEqual({
      name: 'KernelError',
      code: 'c',
      message: 'm',
      retryable: false,
      instanceId: 'i',
      backend: 'b',
      path: '/p',
      lastLogLines: ['x'],
      details: { a: 1 },
    });
  });
});
