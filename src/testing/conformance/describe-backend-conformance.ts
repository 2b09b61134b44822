import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Backend } from '../../backend/backend.js';
import type { InstanceSpecInput } from '../../contracts/instance-spec.js';
import type { BackendConformanceOptions } from './backend-conformance-options.js';
import { checkEndpointDescriptor } from './check-endpoint-descriptor.js';
import { checkHealthStatus } from './check-health-status.js';
import { checkInstanceKey } from './check-instance-key.js';
import { checkManifest } from './check-manifest.js';
import { checkManifestTruthfulness } from './check-manifest-truthfulness.js';
import { checkInstanceKeyHidesSecrets, checkNoSecretLeak } from './check-no-secret-leak.js';
import { checkReadiness } from './check-readiness.js';
import { checkStopLeavesDaemonAlive, checkStopLeavesNoProcess } from './check-stop.js';
import { type ConformanceRun, startConformanceRun } from './conformance-run.js';
import { ConformanceViolation } from './conformance-violation.js';

/** Plan readiness deadline assumed when the truthfulness check could not produce a plan, in ms. */
const FALLBACK_READY_TIMEOUT_MS = 60_000;

/**
 * Declares a vitest suite that checks a backend against what the kernel relies on (one `it` per rule, in
 * order): `manifest`, `manifest-truthfulness`, `instance-key`, `readiness` (a real kernel starts
 * `options.spec`), `health`, `endpoint-descriptor`, `stop-leaves-no-process` (spawned) or
 * `stop-leaves-daemon-alive` (attached), and `no-secret-leak`. Each failure is a `ConformanceViolation`
 * whose message names the rule and what was seen. Call it at the top level of a test file:
 *
 * ```ts
 * describeBackendConformance(() => createMyBackend(), { kind: 'spawned', spec: { backend: 'mine', bootSpec } });
 * ```
 *
 * Needs `vitest` (a peer of this entry point). Spawned commands get an extra environment variable,
 * `SHIC_CONFORMANCE_RUN`, so that escaped descendants can be found.
 * @param factory creates the backend under test; called once, after `options.setup`.
 * @throws Error at collection time when neither `options.spec` nor `options.setup` is given.
 */
export function describeBackendConformance(
  factory: () => Backend | Promise<Backend>,
  options: BackendConformanceOptions,
): void {
  if (!options.spec && !options.setup) {
    throw new TypeError('describeBackendConformance needs options.spec, or options.setup returning { spec }');
  }
  const timeoutMs = options.timeoutMs ?? 120_000;
  const title = options.name ?? options.spec?.backend ?? 'backend';
  let backend: Backend;
  let spec: InstanceSpecInput;
  let secrets: string[] = [];
  let readyTimeoutMs = FALLBACK_READY_TIMEOUT_MS;
  let run: ConformanceRun | undefined;
  const started = (): ConformanceRun => {
    if (run) return run;
    throw new ConformanceViolation(
      'readiness',
      backend?.id,
      'the instance was never started (see the "readiness" check)',
    );
  };

  describe(`describeBackendConformance: ${title}`, () => {
    beforeAll(async () => {
      const extra = (await options.setup?.()) ?? undefined;
      const chosen = extra?.spec ?? options.spec;
      if (!chosen) throw new TypeError('describeBackendConformance: options.setup returned no spec');
      spec = chosen;
      secrets = [...(options.secrets ?? []), ...(extra?.secrets ?? [])];
      backend = await factory();
    }, timeoutMs);

    afterAll(async () => {
      try {
        await run?.dispose();
      } finally {
        await options.teardown?.();
      }
    }, timeoutMs);

    it('manifest: parses, equals the backend id, and the backend is specification v1', () => {
      checkManifest(backend);
    });

    it('manifest-truthfulness: the plan passes validateStartupPlan and lying manifests make it fail', async () => {
      readyTimeoutMs = (await checkManifestTruthfulness(backend, spec, options.kind)).readyTimeoutMs;
    });

    it('instance-key: stable across plans and equal to instanceKey(spec)', async () => {
      await checkInstanceKey(backend, spec);
    });

    it(
      "readiness: a real kernel gets the spec ready within the plan's readyTimeoutMs",
      async () => {
        run = await startConformanceRun(backend, spec, { kind: options.kind, readyTimeoutMs });
        checkReadiness(run);
      },
      timeoutMs,
    );

    it(
      'health: checkHealth resolves to a valid status',
      async () => {
        await checkHealthStatus(started());
      },
      timeoutMs,
    );

    it(
      'endpoint-descriptor: a usable baseUrl speaking a declared protocol',
      async () => {
        await checkEndpointDescriptor(started());
      },
      timeoutMs,
    );

    if (options.kind === 'spawned') {
      it(
        'stop-leaves-no-process: no pid, group member or marked descendant survives stopInstance',
        async () => {
          await checkStopLeavesNoProcess(started());
        },
        timeoutMs,
      );
    } else {
      it(
        'stop-leaves-daemon-alive: the daemon still answers after stopInstance and close',
        async () => {
          await checkStopLeavesDaemonAlive(started());
        },
        timeoutMs,
      );
    }

    it(
      'no-secret-leak: secrets stay out of the instance key, snapshot, descriptor JSON and logs',
      async () => {
        await checkInstanceKeyHidesSecrets(backend, spec, secrets);
        checkNoSecretLeak(started(), secrets);
      },
      timeoutMs,
    );
  });
}
