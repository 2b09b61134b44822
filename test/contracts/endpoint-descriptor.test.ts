import { describe, expect, it } from 'vitest';
import {
  parseEndpointDescriptor,
  safeParseEndpointDescriptor,
} from '../../src/contracts/endpoint-descriptor.js';
import { Secret } from '../../src/secret/secret.js';
import { endpointDescriptorInput } from '../support/manifests.js';

describe('parseEndpointDescriptor', () => {
  it('fills targetClass, headers, nullable refs, capabilities and metadata', () => {
    expect(parseEndpointDescriptor(endpointDescriptorInput())).toMatchObject({
      targetClass: 'self_hosted_endpoint',
      headers: {},
      modelIdentity: null,
      leaseRef: null,
      boundaryRef: null,
      capabilities: {},
      metadata: {},
    });
  });

  it('accepts OpenAI base URLs ending in /v1 with or without a trailing slash', () => {
    for (const baseUrl of ['http://127.0.0.1:1/v1', 'http://127.0.0.1:1/v1/', 'http://h/api/v1']) {
      expect(safeParseEndpointDescriptor(endpointDescriptorInput({ baseUrl })).success).toBe(true);
    }
  });

  it('rejects an OpenAI base URL that does not end in /v1, naming baseUrl with invalid_contract', () => {
    const result = safeParseEndpointDescriptor(endpointDescriptorInput({ baseUrl: 'http://127.0.0.1:1/' }));
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.code).toBe('invalid_contract');
    expect(result.error.issues).toEqual([
      { path: 'baseUrl', message: expect.stringContaining('/v1'), received: 'http://127.0.0.1:1/' },
    ]);
  });

  it('reports an empty or unparseable OpenAI baseUrl as a contract issue instead of throwing a TypeError', () => {
    for (const baseUrl of ['', 'not a url', 42]) {
      const result = safeParseEndpointDescriptor(endpointDescriptorInput({ baseUrl }));
      expect(result.success).toBe(false);
      if (result.success) continue;
      expect(result.error.code).toBe('invalid_contract');
      expect(result.error.issues).toEqual([
        { path: 'baseUrl', message: expect.any(String), received: baseUrl },
      ]);
    }
  });

  it('does not require /v1 for a non-OpenAI protocol', () => {
    const input = endpointDescriptorInput({ protocol: 'ollama_native', baseUrl: 'http://127.0.0.1:11434' });
    expect(parseEndpointDescriptor(input).baseUrl).toBe('http://127.0.0.1:11434');
  });

  it('accepts Secret header values and rejects other non-strings', () => {
    const auth = new Secret('Bearer sk-1');
    expect(
      parseEndpointDescriptor(endpointDescriptorInput({ headers: { authorization: auth } })).headers,
    ).toEqual({
      authorization: auth,
    });
    const result = safeParseEndpointDescriptor(
      endpointDescriptorInput({ headers: { authorization: { v: 1 } } }),
    );
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.issues.map((i) => i.path)).toEqual(['headers.authorization']);
  });
});
