/** The rules the conformance kit checks, each named in its failure message. */
export const CONFORMANCE_RULES = [
  'manifest',
  'manifest-truthfulness',
  'instance-key',
  'readiness',
  'health',
  'endpoint-descriptor',
  'stop-leaves-no-process',
  'stop-leaves-daemon-alive',
  'no-secret-leak',
] as const;
export type ConformanceRule = (typeof CONFORMANCE_RULES)[number];

// Failure messages must stay readable in a test report: long values are cut, never hidden entirely.
function describeSeen(seen: unknown): string {
  let text: string;
  try {
    text = typeof seen === 'string' ? seen : (JSON.stringify(seen) ?? String(seen));
  } catch {
    text = String(seen);
  }
  return text.length > 1_500 ? `${text.slice(0, 1_500)}…` : text;
}

/**
 * A backend broke a conformance rule. The message names the rule, what the kernel relies on, and what the
 * kit saw, e.g. `Backend conformance rule "instance-key" failed for backend "x": … Seen: {…}`.
 */
export class ConformanceViolation extends Error {
  override name = 'ConformanceViolation';
  /** The rule that failed. */
  readonly rule: ConformanceRule;
  /** Backend id under test, when known. */
  readonly backend: string | undefined;
  /** What the kit observed (JSON-safe; never contains secret values). */
  readonly seen: unknown;

  constructor(
    rule: ConformanceRule,
    backend: string | undefined,
    message: string,
    seen?: unknown,
    cause?: unknown,
  ) {
    const who = backend === undefined ? '' : ` for backend "${backend}"`;
    const tail = seen === undefined ? '' : ` Seen: ${describeSeen(seen)}`;
    const stop = /[.!?]$/.test(message) ? '' : '.';
    super(
      `Backend conformance rule "${rule}" failed${who}: ${message}${stop}${tail}`,
      cause ? { cause } : undefined,
    );
    this.rule = rule;
    this.backend = backend;
    this.seen = seen;
  }
}
