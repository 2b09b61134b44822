import type { Backend } from '../../backend/backend.js';
import type { InstanceSpecInput } from '../../contracts/instance-spec.js';
import type { ConformanceRun } from './conformance-run.js';
import { ConformanceViolation } from './conformance-violation.js';
import { conformanceSpec, planForSpec } from './plan-for-spec.js';

/** Where a secret must never appear, as text. */
export interface SecretExposure {
  /** A short name for the failure message, e.g. `the instance key`. */
  where: string;
  text: string;
}

// Secrets are named by position and a hint of their length, never by value, in the failure message.
function describeSecret(secrets: string[], secret: string): string {
  return `secret #${secrets.indexOf(secret) + 1} (${secret.length} characters)`;
}

// The pino `msg` of a log line, so the failure says which log statement leaked.
function logMessage(line: string): string {
  try {
    return String((JSON.parse(line) as { msg?: unknown }).msg ?? '(no msg)');
  } catch {
    return '(not JSON)';
  }
}

/** Throws for the first secret found in any exposure. */
function assertNoSecret(backend: Backend, secrets: string[], exposures: SecretExposure[]): void {
  for (const secret of secrets.filter((s) => s.length > 0)) {
    const leaks = exposures.filter((e) => e.text.includes(secret)).map((e) => e.where);
    if (leaks.length > 0) {
      throw new ConformanceViolation(
        'no-secret-leak',
        backend.id,
        `${describeSecret(secrets, secret)} appears in ${leaks.join(', ')}; hold it as a Secret and keep it ` +
          'out of instance keys, plans, argv and log fields (a fingerprint/hash is fine)',
        { leakedInto: leaks },
      );
    }
  }
}

/**
 * Rule `no-secret-leak`, without a kernel: no secret appears in the plan's instance key or in
 * `backend.instanceKey(spec)`.
 * @throws ConformanceViolation naming where the secret appeared (never the secret itself).
 */
export async function checkInstanceKeyHidesSecrets(
  backend: Backend,
  specInput: InstanceSpecInput,
  secrets: string[],
): Promise<void> {
  const spec = conformanceSpec('no-secret-leak', backend, specInput);
  const plan = await planForSpec('no-secret-leak', backend, spec);
  const exposures: SecretExposure[] = [{ where: 'the instance key', text: plan.instanceKey }];
  if (backend.instanceKey) exposures.push({ where: 'instanceKey(spec)', text: backend.instanceKey(spec) });
  assertNoSecret(backend, secrets, exposures);
}

/**
 * Rule `no-secret-leak` over a whole run: no secret appears in the instance key, the snapshot JSON, the
 * descriptor's `JSON.stringify` output, or any log line the kernel and backend wrote at trace level.
 * Run it after the stop check, so the stop's log lines are included.
 * @throws ConformanceViolation naming where the secret appeared (never the secret itself).
 */
export function checkNoSecretLeak(run: ConformanceRun, secrets: string[]): void {
  const exposures: SecretExposure[] = [];
  if (run.snapshot) {
    exposures.push({ where: 'the instance key', text: run.snapshot.instanceKey });
    exposures.push({ where: 'the snapshot JSON', text: JSON.stringify(run.snapshot) });
  }
  if (run.descriptor)
    exposures.push({ where: 'JSON.stringify(descriptor)', text: JSON.stringify(run.descriptor) });
  if (!run.kernel.closed) {
    exposures.push({ where: 'the snapshot JSON', text: JSON.stringify(run.kernel.listInstances()) });
  }
  const logLines = run.logLines.filter((line) => secrets.some((s) => s.length > 0 && line.includes(s)));
  if (logLines.length > 0) {
    const messages = [...new Set(logLines.map(logMessage))].map((m) => JSON.stringify(m)).join(', ');
    exposures.push({ where: `${logLines.length} log line(s) (${messages})`, text: logLines.join('\n') });
  }
  assertNoSecret(run.backend, secrets, exposures);
}
