// A deployment's idleShutdownMs, maxLeases and restartPolicy: parsed from shic.yaml, and carried into the
// ensure request (targetPreference.policy) and the eager-start spec (policy) the daemon builds from it.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load-config.js';
import { parseEndpointRequest } from '../../src/contracts/endpoint-request.js';
import { parseInstanceSpec } from '../../src/contracts/instance-spec.js';
import { DeploymentCatalog } from '../../src/control/deployment-catalog.js';
import type { InvalidConfigError } from '../../src/errors/error-catalog.js';

const CONFIG = `deployments:
  tiny:
    backend: llama-cpp
    bootSpec:
      model: /models/tiny.gguf
    idleShutdownMs: 600000
    maxLeases: 4
    restartPolicy:
      mode: on_failure
      maxRestarts: 2
      backoffMaxMs: 5000
  plain:
    backend: ollama
    modelIdentity: qwen2.5:0.5b
`;

function catalogOf(text: string): DeploymentCatalog {
  return new DeploymentCatalog(parseConfigText(text, { env: {} }).config.deployments, new Map());
}

describe('DeploymentCatalog deployment policy', () => {
  it('parses a restartPolicy and maxLeases and passes them, with idleShutdownMs, as the request policy', () => {
    const call = catalogOf(CONFIG).endpointCall('tiny');
    const policy = {
      idleShutdownMs: 600_000,
      maxLeases: 4,
      restartPolicy: { mode: 'on_failure', maxRestarts: 2, backoffMaxMs: 5_000 },
    };
    expect(call.request.targetPreference.policy).toEqual(policy);
    // The request is one the kernel accepts, and the boot spec no longer carries the idle field.
    const request = parseEndpointRequest(call.request);
    expect(request.targetPreference.policy).toEqual(policy);
    expect(request.targetPreference.bootSpec).toEqual({ model: '/models/tiny.gguf' });
  });

  it('gives the eager-start spec the same policy', () => {
    const spec = parseInstanceSpec(catalogOf(CONFIG).instanceSpec('tiny'));
    expect(spec.policy).toEqual({
      idleShutdownMs: 600_000,
      maxLeases: 4,
      restartPolicy: { mode: 'on_failure', maxRestarts: 2, backoffMaxMs: 5_000 },
    });
    expect(spec.bootSpec).toEqual({ model: '/models/tiny.gguf' });
  });

  it('sends no policy for a deployment that sets none, so the backend keeps its own', () => {
    const catalog = catalogOf(CONFIG);
    expect(catalog.endpointCall('plain').request.targetPreference).not.toHaveProperty('policy');
    expect(catalog.instanceSpec('plain')).not.toHaveProperty('policy');
    expect(catalog.instanceSpec('plain').backendOptions).toEqual({});
  });

  it('keeps idleShutdownMs null (never) as a policy value', () => {
    const text = 'deployments:\n  d:\n    backend: ollama\n    idleShutdownMs: null\n';
    expect(catalogOf(text).endpointCall('d').request.targetPreference.policy).toEqual({
      idleShutdownMs: null,
    });
  });

  it('rejects a bad restartPolicy field as invalid_config naming its YAML path and line', () => {
    const text = 'deployments:\n  d:\n    backend: ollama\n    restartPolicy:\n      mode: always\n';
    let error: InvalidConfigError | undefined;
    try {
      parseConfigText(text, { env: {} });
    } catch (caught) {
      error = caught as InvalidConfigError;
    }
    expect(error?.code).toBe('invalid_config');
    expect(error?.issues[0]).toMatchObject({ path: 'deployments.d.restartPolicy.mode', line: 5 });
  });
});
