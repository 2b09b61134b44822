import { describe, expect, it } from 'vitest';
import { parseConsumerManifest, safeParseConsumerManifest } from '../../src/contracts/consumer-manifest.js';
import { ContractValidationError } from '../../src/errors/error-catalog.js';
import { consumerInput } from '../support/manifests.js';

// Parses and returns the typed error; fails the test when the input parses.
function failureOf(input: unknown): ContractValidationError {
  const result = safeParseConsumerManifest(input);
  if (result.success) throw new Error('expected the consumer manifest to be rejected');
  return result.error;
}

describe('parseConsumerManifest', () => {
  it('fills defaults for capabilities, constraints and metadata', () => {
    const parsed = parseConsumerManifest({
      consumer: 'c',
      acceptedRuntimeKinds: ['service'],
      acceptedManagementModes: ['kernel_managed'],
      acceptedProtocols: ['openai_chat_completions'],
    });
    expect(parsed).toMatchObject({
      contractVersion: 'inference.v1',
      requiredCapabilities: {},
      optionalCapabilities: {},
      constraints: {},
      metadata: {},
    });
  });

  it('names acceptedManagementModes.1 and echoes "weird"', () => {
    const error = failureOf(consumerInput({ acceptedManagementModes: ['kernel_managed', 'weird'] }));
    expect(error.code).toBe('invalid_manifest');
    expect(error.contract).toBe('ConsumerManifest');
    expect(error.issues).toEqual([
      { path: 'acceptedManagementModes.1', message: expect.any(String), received: 'weird' },
    ]);
    expect(error.message).toContain('acceptedManagementModes.1');
    expect(error.message).toContain('(received string "weird")');
  });

  it.each([
    { over: { consumer: '' }, path: 'consumer', received: '' },
    { over: { acceptedRuntimeKinds: [] }, path: 'acceptedRuntimeKinds', received: 'array(0)' },
    { over: { acceptedProtocols: [''] }, path: 'acceptedProtocols.0', received: '' },
    {
      over: { requiredCapabilities: { streaming: 'yes' } },
      path: 'requiredCapabilities.streaming',
      received: 'yes',
    },
    { over: { optionalCapabilities: { vision: 1 } }, path: 'optionalCapabilities.vision', received: 1 },
    { over: { constraints: { startupKind: 'forked' } }, path: 'constraints.startupKind', received: 'forked' },
    { over: { constraints: { maxMemory: 4 } }, path: 'constraints.maxMemory', received: 4 },
    { over: { acceptedProtocol: ['x'] }, path: 'acceptedProtocol', received: 'array(1)' },
  ])('rejects a bad value naming $path', ({ over, path, received }) => {
    const error = failureOf(consumerInput(over));
    expect(error.code).toBe('invalid_manifest');
    expect(error.issues).toEqual([{ path, message: expect.any(String), received }]);
  });

  it('throws the same typed error from parseConsumerManifest', () => {
    expect(() => parseConsumerManifest(consumerInput({ consumer: 7 }))).toThrow(ContractValidationError);
  });
});
