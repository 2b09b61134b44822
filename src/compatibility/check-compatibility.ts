import type { BackendManifest } from '../contracts/backend-manifest.js';
import type {
  CompatibilityFailure,
  CompatibilityReason,
  CompatibilityResult,
} from '../contracts/compatibility-result.js';
import type { ConsumerManifest } from '../contracts/consumer-manifest.js';

function firstAccepted<T>(offered: readonly T[], accepted: readonly T[]): T | null {
  return offered.find((v) => accepted.includes(v)) ?? null;
}

// Own properties only: a capability named like an Object.prototype member (`constructor`) is undeclared, not a function.
function declaredCapability(backend: BackendManifest, name: string): unknown {
  return Object.hasOwn(backend.capabilities, name) ? backend.capabilities[name] : false;
}

function capabilityMismatches(backend: BackendManifest, wanted: Record<string, unknown>): string[] {
  return Object.entries(wanted)
    .filter(([name, value]) => declaredCapability(backend, name) !== value)
    .map(([name]) => name);
}

/**
 * Checks a backend manifest against a consumer manifest in SHIC's order; the first failing check names the
 * `reason`, and `metadata.allFailures` lists every failing check so a user can fix them in one go.
 */
export function checkCompatibility(
  backend: BackendManifest,
  consumer: ConsumerManifest,
): CompatibilityResult {
  const failures: CompatibilityFailure[] = [];
  const fail = (reason: CompatibilityReason, missing: string[], message: string) =>
    failures.push({ reason, missing, message });

  const runtimeKind = consumer.acceptedRuntimeKinds.includes(backend.runtimeKind)
    ? backend.runtimeKind
    : null;
  if (!runtimeKind) {
    fail(
      'runtime_kind_mismatch',
      [`runtimeKind:${backend.runtimeKind}`],
      `${backend.backend} is a ${backend.runtimeKind}; ${consumer.consumer} accepts ${consumer.acceptedRuntimeKinds.join(', ')}`,
    );
  }
  const mode = firstAccepted(backend.managementModes, consumer.acceptedManagementModes);
  if (!mode) {
    fail(
      'management_mode_mismatch',
      backend.managementModes.map((m) => `managementMode:${m}`),
      `${backend.backend} runs ${backend.managementModes.join(', ')}; ${consumer.consumer} accepts ${consumer.acceptedManagementModes.join(', ')}`,
    );
  }
  const protocol = firstAccepted(backend.protocols, consumer.acceptedProtocols);
  if (!protocol) {
    fail(
      'unsupported_protocol',
      consumer.acceptedProtocols.map((p) => `protocol:${p}`),
      `${backend.backend} speaks ${backend.protocols.join(', ')}; ${consumer.consumer} accepts ${consumer.acceptedProtocols.join(', ')}`,
    );
  }
  const wantedKind = consumer.constraints.startupKind;
  if (wantedKind && wantedKind !== backend.startupKind) {
    fail(
      'startup_kind_unsupported',
      [`startupKind:${wantedKind}`],
      `${backend.backend} starts as ${backend.startupKind}; ${consumer.consumer} requires ${wantedKind}`,
    );
  }
  const missingCaps = capabilityMismatches(backend, consumer.requiredCapabilities);
  if (missingCaps.includes('streaming')) {
    fail(
      'missing_streaming',
      ['capability:streaming'],
      `${backend.backend} does not offer the required streaming`,
    );
  }
  const otherCaps = missingCaps.filter((c) => c !== 'streaming');
  if (otherCaps.length) {
    fail(
      'missing_capability',
      otherCaps.map((c) => `capability:${c}`),
      `${backend.backend} lacks required capabilities: ${otherCaps.join(', ')}`,
    );
  }

  const warnings = capabilityMismatches(backend, consumer.optionalCapabilities).map(
    (c) =>
      `optional capability ${c} is ${String(declaredCapability(backend, c))} (wanted ${String(consumer.optionalCapabilities[c])})`,
  );
  const first = failures[0];
  return {
    compatible: first === undefined,
    reason: first?.reason ?? 'protocol_match',
    resolvedRuntimeKind: runtimeKind,
    resolvedManagementMode: mode,
    resolvedProtocol: protocol,
    warnings,
    missingRequirements: first?.missing ?? [],
    metadata: {
      backend: backend.backend,
      consumer: consumer.consumer,
      allFailures: failures,
      ...(first ? { message: first.message } : {}),
    },
  };
}
