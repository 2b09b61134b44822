import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineContract, toContractIssues } from '../../src/contracts/define-contract.js';
import { ContractValidationError } from '../../src/errors/error-catalog.js';
import { KernelError } from '../../src/errors/kernel-error.js';
import { Secret } from '../../src/secret/secret.js';

const widget = defineContract(
  'Widget',
  'invalid_widget',
  z.strictObject({
    name: z.string().min(1),
    sizes: z.array(z.number()),
    nested: z.strictObject({}).default({}),
  }),
);

describe('defineContract', () => {
  it('returns the parsed data from parse and safeParse for a valid value', () => {
    expect(widget.parse({ name: 'w', sizes: [1] })).toEqual({ name: 'w', sizes: [1], nested: {} });
    expect(widget.safeParse({ name: 'w', sizes: [] })).toEqual({
      success: true,
      data: { name: 'w', sizes: [], nested: {} },
    });
  });

  it('throws a ContractValidationError carrying the contract code, name and every issue', () => {
    const bad = { name: '', sizes: [1, 'two'] };
    const thrown = (() => {
      try {
        widget.parse(bad);
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(ContractValidationError);
    const error = thrown as ContractValidationError;
    expect(KernelError.isInstance(error)).toBe(true);
    expect(error.code).toBe('invalid_widget');
    expect(error.contract).toBe('Widget');
    expect(error.issues.map((i) => i.path)).toEqual(['name', 'sizes.1']);
    expect(error.issues[1]).toMatchObject({ path: 'sizes.1', received: 'two' });
    expect(error.message).toMatch(/^Invalid Widget: name: .*; sizes\.1: .*\(received string "two"\)$/);
    expect(error.details).toEqual({ contract: 'Widget', issues: error.issues });
  });

  it('makes safeParse return { success: false, error } with the same typed error parse throws', () => {
    const bad = { name: 'w', sizes: 'many' };
    const result = widget.safeParse(bad);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error).toBeInstanceOf(ContractValidationError);
    expect(result.error.code).toBe('invalid_widget');
    expect(() => widget.parse(bad)).toThrow(result.error.message);
  });

  it('names each unknown key of a strict object by its own path and echoes its value', () => {
    const result = widget.safeParse({ name: 'w', sizes: [], colour: 'red', nested: { depth: 3 } });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.issues).toHaveLength(2);
    expect(result.error.issues).toEqual(
      expect.arrayContaining([
        { path: 'colour', message: expect.stringContaining('"colour"'), received: 'red' },
        { path: 'nested.depth', message: expect.stringContaining('"depth"'), received: 3 },
      ]),
    );
    expect(result.error.message).toContain('colour: Unrecognized key "colour"');
    expect(result.error.message).toContain('(received string "red")');
  });

  it('reports a non-object input at the root path', () => {
    const result = widget.safeParse(42);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.issues).toEqual([{ path: '', message: expect.any(String), received: 42 }]);
    expect(result.error.message).toContain('(root)');
  });
});

describe('toContractIssues', () => {
  it('shortens long strings and describes arrays and objects instead of dumping them', () => {
    const schema = z.object({ s: z.number(), a: z.string(), o: z.string() });
    const input = { s: 'x'.repeat(200), a: [1, 2, 3], o: { secret: 'hunter2' } };
    const parsed = schema.safeParse(input);
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    const issues = toContractIssues(parsed.error, input);
    expect(issues.map((i) => i.received)).toEqual([`${'x'.repeat(77)}...`, 'array(3)', 'object']);
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });
});

describe('toContractIssues with credential-named fields', () => {
  const schema = z.strictObject({
    name: z.string(),
    apiKeys: z.array(z.string().min(8)).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    password: z
      .string()
      .refine((v) => v.length > 20, { message: 'too short' })
      .optional(),
  });

  it.each([
    ['an unknown token field', { name: 'w', token: 'tok-3f9a1c' }, 'token', 'tok-3f9a1c'],
    ['an unknown apiKey field', { name: 'w', apiKey: 'sk-live-777' }, 'apiKey', 'sk-live-777'],
    ['an unknown client_secret field', { name: 'w', client_secret: 'shh-4242' }, 'client_secret', 'shh-4242'],
    ['an array item of apiKeys', { name: 'w', apiKeys: ['short1'] }, 'apiKeys.0', 'short1'],
    [
      'an Authorization header of the wrong type',
      { name: 'w', headers: { Authorization: 12345678 } },
      'headers.Authorization',
      '12345678',
    ],
    [
      'a password whose custom message would quote it',
      { name: 'w', password: 'hunter2-pw' },
      'password',
      'hunter2-pw',
    ],
  ])('redacts the value of %s in received and in the message', (_name, input, path, value) => {
    const parsed = schema.safeParse(input);
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    const issues = toContractIssues(parsed.error, input);
    expect(issues).toEqual([
      { path, message: expect.stringContaining('[redacted]'), received: '[redacted]' },
    ]);
    expect(JSON.stringify(issues)).not.toContain(value);
  });

  it('redacts a Secret value wherever it sits, and still echoes ordinary fields', () => {
    const input = { name: 7, tag: new Secret('s3cr3t-value') };
    const parsed = schema.safeParse(input);
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    const issues = toContractIssues(parsed.error, input);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'name', message: expect.stringContaining('(received number 7)'), received: 7 },
        { path: 'tag', message: expect.stringContaining('[redacted]'), received: '[redacted]' },
      ]),
    );
  });
});
