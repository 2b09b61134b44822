import {
  checkEndpointDescriptor,
  checkHealthStatus,
  checkReadiness,
} from 'self-hosted-inference-core/testing';
import { describe, expect, it } from 'vitest';
import { conformanceTestBackend } from './conformance-test-backend.js';
import { rejection, withRun } from './run-with.js';

const spec = { backend: 'conformance-spawned' };

describe('checkEndpointDescriptor', () => {
  it('passes for a /v1 baseUrl whose /models answers', async () => {
    await withRun(conformanceTestBackend(), spec, async (run) => {
      checkReadiness(run);
      await checkEndpointDescriptor(run);
    });
  });

  it('fails loudly when the baseUrl of an OpenAI endpoint does not end in /v1', async () => {
    await withRun(conformanceTestBackend({ baseUrlWithoutV1: true }), spec, async (run) => {
      checkReadiness(run);
      const error = await rejection(checkEndpointDescriptor(run));
      expect(error.message).toMatch(
        /^Backend conformance rule "endpoint-descriptor" failed for backend "conformance-spawned": baseUrl must end in \/v1 for the OpenAI protocol "openai_chat_completions".*Seen: \{"baseUrl":"http:\/\/127\.0\.0\.1:\d+"\}$/,
      );
    });
  });
});

describe('checkHealthStatus', () => {
  it('returns the status of a healthy instance', async () => {
    await withRun(conformanceTestBackend(), spec, async (run) => {
      checkReadiness(run);
      await expect(checkHealthStatus(run)).resolves.toBe('healthy');
    });
  });

  it('fails when checkHealth resolves to a status outside the vocabulary', async () => {
    await withRun(conformanceTestBackend({ invalidHealth: true }), spec, async (run) => {
      checkReadiness(run);
      const error = await rejection(checkHealthStatus(run));
      expect(error.message).toContain('rule "health" failed');
      expect(error.message).toContain('Seen: {"status":"ok"}');
    });
  });
});
