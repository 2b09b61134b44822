// ensureEndpoint inputs for the stand-in backends: a request per boot spec, an execution context and owner
// options. The consumer comes from manifests.ts (`consumerInput` accepts everything the stand-in offers).

import type { ConsumerManifestInput } from '../../src/contracts/consumer-manifest.js';
import type {
  EndpointRequestInput,
  EnsureEndpointOptionsInput,
  ExecutionContextInput,
} from '../../src/contracts/endpoint-request.js';
import { consumerInput as baseConsumerInput } from './manifests.js';
import type { StandInBootSpec } from './stand-in-backend.js';

/** A consumer accepting both management modes and OpenAI chat with streaming (what the stand-ins offer). */
export function consumerInput(overrides: Record<string, unknown> = {}): ConsumerManifestInput {
  return baseConsumerInput(overrides) as ConsumerManifestInput;
}

/** A request for a spawned stand-in instance booted with `boot` (its `name` picks the instance). */
export function standInRequest(
  boot: StandInBootSpec = {},
  overrides: Partial<EndpointRequestInput> = {},
): EndpointRequestInput {
  return {
    requestId: 'req-1',
    targetPreference: { backend: 'stand-in', bootSpec: { ...boot } },
    modelPreference: { id: 'stand-in-model' },
    ...overrides,
  };
}

/** A request attaching to a stand-in daemon the test runs itself at `url`. */
export function attachedStandInRequest(url: string, boot: StandInBootSpec = {}): EndpointRequestInput {
  return {
    requestId: 'req-attached',
    targetPreference: { backend: 'stand-in-attached', backendOptions: { ...boot, url } },
  };
}

/** A full execution context (every traced field set). */
export function executionContext(overrides: Partial<ExecutionContextInput> = {}): ExecutionContextInput {
  return {
    runId: 'run-1',
    attemptId: 'attempt-1',
    boundaryRef: 'boundary-1',
    observability: { traceId: 'trace-1' },
    ...overrides,
  };
}

/** Lease options for an owner. */
export function owner(
  ownerRef = 'worker-1',
  overrides: Omit<Partial<EnsureEndpointOptionsInput>, 'ownerRef'> = {},
): EnsureEndpointOptionsInput {
  return { ownerRef, ...overrides };
}
