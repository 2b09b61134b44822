// The vitest suite itself, on conforming stand-in backends: every rule passes, setup and teardown run.
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import { CONFORMANCE_RULES } from 'self-hosted-inference-core/testing';
import { describeBackendConformance } from 'self-hosted-inference-core/testing/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { waitForHealth } from '../../support/wait-for-health.js';
import { conformanceTestBackend, STAND_IN_SERVER } from './conformance-test-backend.js';

describeBackendConformance(() => conformanceTestBackend(), {
  name: 'spawned stand-in server',
  kind: 'spawned',
  spec: { backend: 'conformance-spawned' },
  secrets: ['sk-never-used-0f9a'],
  timeoutMs: 60_000,
});

let daemon: ResultPromise | undefined;
const hooks: string[] = [];
describeBackendConformance(() => conformanceTestBackend({ kind: 'attached' }), {
  name: 'attached stand-in daemon',
  kind: 'attached',
  async setup() {
    hooks.push('setup');
    const port = await getPort();
    daemon = execa(process.execPath, [STAND_IN_SERVER, '--port', String(port)], {
      stdio: 'ignore',
      reject: false,
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url, { message: 'the stand-in daemon' });
    return { spec: { backend: 'conformance-attached', backendOptions: { url } } };
  },
  async teardown() {
    hooks.push('teardown');
    daemon?.kill('SIGKILL');
    await daemon;
  },
});

describe('describeBackendConformance', () => {
  afterAll(() => {
    // Suites run in file order: both kit suites and their hooks are done by the time this one ends.
    expect(hooks).toEqual(['setup', 'teardown']);
  });

  it('names one check per rule, in a stable order', () => {
    expect(CONFORMANCE_RULES).toEqual([
      'manifest',
      'manifest-truthfulness',
      'instance-key',
      'readiness',
      'health',
      'endpoint-descriptor',
      'stop-leaves-no-process',
      'stop-leaves-daemon-alive',
      'no-secret-leak',
    ]);
  });

  it('refuses to declare a suite without a spec or a setup hook', () => {
    expect(() => describeBackendConformance(() => conformanceTestBackend(), { kind: 'spawned' })).toThrow(
      'describeBackendConformance needs options.spec, or options.setup returning { spec }',
    );
  });
});
