import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBackendManifest, safeParseBackendManifest } from '../../src/contracts/backend-manifest.js';
import { parseConsumerManifest, safeParseConsumerManifest } from '../../src/contracts/consumer-manifest.js';
import {
  parseEndpointDescriptor,
  safeParseEndpointDescriptor,
} from '../../src/contracts/endpoint-descriptor.js';
import {
  parseEndpointRequest,
  parseExecutionContext,
  safeParseEndpointRequest,
  safeParseExecutionContext,
} from '../../src/contracts/endpoint-request.js';
import { parseInstanceSpec, safeParseInstanceSpec } from '../../src/contracts/instance-spec.js';
import { parseLease, safeParseLease } from '../../src/contracts/lease.js';
import { parseRuntimeSnapshot, safeParseRuntimeSnapshot } from '../../src/contracts/runtime-snapshot.js';
import { parseStartupPlan, safeParseStartupPlan } from '../../src/contracts/startup-plan.js';
import { KernelError } from '../../src/errors/kernel-error.js';
import {
  consumerInput,
  endpointDescriptorInput,
  endpointRequestInput,
  leaseInput,
  runtimeSnapshotInput,
  spawnedManifestInput,
  spawnedPlanInput,
} from '../support/manifests.js';

const RUNS = 1000;

interface Parser {
  name: string;
  code: string;
  parse: (input: unknown) => unknown;
  safeParse: (input: unknown) => { success: boolean; error?: unknown };
  valid: () => unknown;
}

const parsers: Parser[] = [
  {
    name: 'parseBackendManifest',
    code: 'invalid_manifest',
    parse: parseBackendManifest,
    safeParse: safeParseBackendManifest,
    valid: spawnedManifestInput,
  },
  {
    name: 'parseConsumerManifest',
    code: 'invalid_manifest',
    parse: parseConsumerManifest,
    safeParse: safeParseConsumerManifest,
    valid: () =>
      consumerInput({ constraints: { startupKind: 'spawned' }, optionalCapabilities: { a: 'unknown' } }),
  },
  {
    name: 'parseEndpointRequest',
    code: 'invalid_request',
    parse: parseEndpointRequest,
    safeParse: safeParseEndpointRequest,
    valid: endpointRequestInput,
  },
  {
    name: 'parseExecutionContext',
    code: 'invalid_request',
    parse: parseExecutionContext,
    safeParse: safeParseExecutionContext,
    valid: () => ({ runId: 'r', attemptId: 'a', boundaryRef: 'b', observability: { traceId: 't' } }),
  },
  {
    name: 'parseInstanceSpec',
    code: 'invalid_request',
    parse: parseInstanceSpec,
    safeParse: safeParseInstanceSpec,
    valid: () => ({
      backend: 'llama-cpp',
      startupKind: 'spawned',
      bootSpec: { model: '/m' },
      modelIdentity: 'm',
    }),
  },
  {
    name: 'parseStartupPlan',
    code: 'invalid_startup_plan',
    parse: parseStartupPlan,
    safeParse: safeParseStartupPlan,
    valid: () => spawnedPlanInput({ restartPolicy: { mode: 'never', jitter: 0.5 }, idleShutdownMs: null }),
  },
  {
    name: 'parseLease',
    code: 'invalid_contract',
    parse: parseLease,
    safeParse: safeParseLease,
    valid: leaseInput,
  },
  {
    name: 'parseEndpointDescriptor',
    code: 'invalid_contract',
    parse: parseEndpointDescriptor,
    safeParse: safeParseEndpointDescriptor,
    valid: () => endpointDescriptorInput({ headers: { 'x-a': 'b' }, capabilities: { streaming: true } }),
  },
  {
    name: 'parseRuntimeSnapshot',
    code: 'invalid_contract',
    parse: parseRuntimeSnapshot,
    safeParse: safeParseRuntimeSnapshot,
    valid: () => runtimeSnapshotInput({ lastError: { code: 'x', message: 'y' }, timings: { readyMs: 3 } }),
  },
];

// Every path (as key lists) to a value inside a plain JSON-like tree, the root included.
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value)) return here.concat(...value.map((v, i) => pathsOf(v, [...prefix, i])));
  if (value !== null && typeof value === 'object') {
    return here.concat(...Object.entries(value).map(([k, v]) => pathsOf(v, [...prefix, k])));
  }
  return here;
}

type Mutation = { op: 'drop' | 'replace' | 'add'; pick: number; value: unknown; key: string };

// Applies one random edit to a fresh copy of a valid input: drop a field, replace a value, or add a key.
function mutate(valid: unknown, m: Mutation): unknown {
  const root = structuredClone(valid);
  const paths = pathsOf(root);
  const path = paths[m.pick % paths.length] ?? [];
  if (path.length === 0) return m.op === 'replace' ? m.value : root;
  const parent = path
    .slice(0, -1)
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root) as
    | Record<string | number, unknown>
    | unknown[];
  const last = path[path.length - 1] as string | number;
  if (m.op === 'drop') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (m.op === 'replace') {
    (parent as Record<string | number, unknown>)[last] = m.value;
  } else {
    const target = (parent as Record<string | number, unknown>)[last];
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
      (target as Record<string, unknown>)[m.key] = m.value;
    } else if (!Array.isArray(parent)) {
      parent[m.key] = m.value;
    }
  }
  return root;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('drop', 'replace', 'add'),
  pick: fc.nat(),
  value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.anything({ maxDepth: 2 })),
  key: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString', 'extra')),
});

const anythingArb = fc.anything({
  maxDepth: 3,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
});

// Parses with both entry points and checks the outcome: data, or the contract's typed error, never anything else.
function checkParser(parser: Parser, input: unknown): void {
  let thrown: unknown;
  let parsed = false;
  try {
    parser.parse(input);
    parsed = true;
  } catch (error) {
    thrown = error;
  }
  const safe = parser.safeParse(input);
  expect(safe.success).toBe(parsed);
  if (parsed) return;
  expect(KernelError.isInstance(thrown)).toBe(true);
  const error = thrown as KernelError & { issues: { path: unknown; message: unknown }[] };
  expect(error.code).toBe(parser.code);
  expect(error.issues.length).toBeGreaterThan(0);
  for (const issue of error.issues) {
    expect(typeof issue.path).toBe('string');
    expect(typeof issue.message).toBe('string');
  }
  expect(KernelError.isInstance(safe.error)).toBe(true);
  expect((safe.error as KernelError).code).toBe(parser.code);
  expect((safe.error as KernelError).message).toBe(error.message);
  expect(() => JSON.stringify(error)).not.toThrow();
}

describe.each(parsers)('$name (property)', (parser) => {
  it(`accepts its valid sample`, () => {
    expect(() => parser.parse(parser.valid())).not.toThrow();
  });

  it(`throws only KernelError ${parser.code} for random JSON`, () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => checkParser(parser, input)),
      { numRuns: RUNS },
    );
  });

  it(`throws only KernelError ${parser.code} for arbitrary JS values`, () => {
    fc.assert(
      fc.property(anythingArb, (input) => checkParser(parser, input)),
      { numRuns: RUNS },
    );
  });

  it(`throws only KernelError ${parser.code} for a valid value with a field dropped, replaced or added`, () => {
    fc.assert(
      fc.property(mutationArb, (mutation) => checkParser(parser, mutate(parser.valid(), mutation))),
      { numRuns: RUNS },
    );
  });
});
