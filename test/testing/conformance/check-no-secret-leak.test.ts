import {
  checkInstanceKeyHidesSecrets,
  checkNoSecretLeak,
  checkReadiness,
} from 'self-hosted-inference-core/testing';
import { describe, expect, it } from 'vitest';
import { conformanceTestBackend } from './conformance-test-backend.js';
import { rejection, withRun } from './run-with.js';

const SECRET = 'sk-conformance-4b7d21e9';
const spec = { backend: 'conformance-spawned' };

describe('checkInstanceKeyHidesSecrets', () => {
  it('passes when no secret is in the keys', async () => {
    await expect(
      checkInstanceKeyHidesSecrets(conformanceTestBackend(), spec, [SECRET]),
    ).resolves.toBeUndefined();
  });

  it('fails loudly when a secret is in the instance key, without printing the secret', async () => {
    const backend = conformanceTestBackend({ secretInKey: SECRET });
    const error = await rejection(checkInstanceKeyHidesSecrets(backend, spec, ['other', SECRET]));
    expect(error.message).toContain(
      'Backend conformance rule "no-secret-leak" failed for backend "conformance-spawned": secret #2 (23 characters) appears in the instance key, instanceKey(spec)',
    );
    expect(error.message).not.toContain(SECRET);
  });
});

describe('checkNoSecretLeak', () => {
  it('passes for a run that keeps its secrets, though it captured trace-level logs', async () => {
    await withRun(conformanceTestBackend(), spec, (run) => {
      checkReadiness(run);
      expect(run.logLines.length).toBeGreaterThan(0);
      checkNoSecretLeak(run, [SECRET]);
    });
  });

  it('finds a secret in the snapshot of a started instance', async () => {
    await withRun(conformanceTestBackend({ secretInKey: SECRET }), spec, (run) => {
      checkReadiness(run);
      const error = (() => {
        try {
          checkNoSecretLeak(run, [SECRET]);
        } catch (e) {
          return e as Error;
        }
        throw new Error('expected a violation');
      })();
      expect(error.message).toContain(
        'secret #1 (23 characters) appears in the instance key, the snapshot JSON',
      );
      expect(error.message).not.toContain(SECRET);
    });
  });

  it('finds a secret in a log line and names the log message', async () => {
    await withRun(conformanceTestBackend({ secretInLog: SECRET }), spec, (run) => {
      checkReadiness(run);
      expect(() => checkNoSecretLeak(run, [SECRET])).toThrow(
        /appears in \d+ log line\(s\) \("probing with key"\)/,
      );
    });
  });
});
