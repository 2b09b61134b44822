import type { InstanceSpecInput } from '../../contracts/instance-spec.js';

/** What a `setup` hook hands back: the spec to test, and optionally secrets it created. */
export interface ConformanceSetupResult {
  /** Replaces `options.spec` (e.g. with the URL of the daemon the hook just started). */
  spec?: InstanceSpecInput;
  /** Added to `options.secrets`. */
  secrets?: string[];
}

/** Options of `describeBackendConformance`. */
export interface BackendConformanceOptions {
  /** A spec that should start and become ready on this machine. Required unless `setup` returns one. */
  spec?: InstanceSpecInput;
  /** Whether the backend spawns its instances or attaches to a running service. */
  kind: 'spawned' | 'attached';
  /** Suite title suffix, e.g. `ollama (Ollama stand-in)`. @default the `spec.backend` id */
  name?: string;
  /** Runs once before the checks, e.g. starts the daemon an attached backend needs. */
  setup?: () => Promise<ConformanceSetupResult | undefined> | ConformanceSetupResult | undefined;
  /** Runs once after the checks (also when they failed), e.g. stops that daemon. */
  teardown?: () => Promise<void> | void;
  /** Values that must never appear in the instance key, snapshot JSON, descriptor JSON or logs. @default [] */
  secrets?: string[];
  /** Timeout of each check, in ms (starting the instance included). @default 120000 */
  timeoutMs?: number;
}
