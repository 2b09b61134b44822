import type { z } from 'zod';
import { type ContractIssue, ContractValidationError } from '../errors/error-catalog.js';
import { Secret } from '../secret/secret.js';
import { valueAt } from './value-at.js';

/** Field names whose values are credentials: an issue on such a field never repeats its value. */
const CREDENTIAL_FIELD = /(token|key|secret|password|authorization|credential)/i;
/** What an issue shows instead of a credential's value. */
const REDACTED = '[redacted]';

/** What every contract exposes: its schema, a throwing parser and a result-returning parser. */
export interface Contract<S extends z.ZodType> {
  readonly name: string;
  readonly code: string;
  readonly schema: S;
  parse(input: unknown): z.output<S>;
  safeParse(
    input: unknown,
  ): { success: true; data: z.output<S> } | { success: false; error: ContractValidationError };
}

function preview(value: unknown): unknown {
  if (value === undefined || value === null || typeof value === 'number' || typeof value === 'boolean')
    return value;
  if (typeof value === 'string') return value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return Array.isArray(value) ? `array(${value.length})` : typeof value;
}

// zod reports unknown keys once at the parent object; split them so each issue names the key's own path and value.
function perKeyIssues(error: z.ZodError): { path: PropertyKey[]; message: string }[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: [...issue.path, key],
          message: `Unrecognized key "${key}": remove it or check its spelling`,
        }))
      : [issue],
  );
}

// The field a value belongs to is the last non-index path segment (`apiKeys.0` is still an API key).
function isCredential(path: PropertyKey[], value: unknown): boolean {
  if (Secret.isInstance(value)) return true;
  const field = [...path].reverse().find((key) => typeof key === 'string' && !/^\d+$/.test(key));
  return typeof field === 'string' && CREDENTIAL_FIELD.test(field);
}

// A custom zod message may quote the value itself: cut every occurrence of it out, too.
function redactIssue(issue: { path: PropertyKey[]; message: string }, value: unknown): ContractIssue {
  let message = issue.message;
  if (typeof value === 'string' && value.length > 0) message = message.split(value).join(REDACTED);
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return {
    path: issue.path.map(String).join('.'),
    message: value === undefined ? message : `${message} (received a ${kind}, ${REDACTED}: credential field)`,
    received: value === undefined ? undefined : REDACTED,
  };
}

/**
 * Flattens zod issues into path/message/received triples for error messages and the control API. The value
 * of a credential-named field (`token`, `apiKey`, `password`, `secret`, `authorization`, `credential`…) or
 * of a `Secret` is never echoed: `received` is `[redacted]`.
 */
export function toContractIssues(error: z.ZodError, input: unknown): ContractIssue[] {
  return perKeyIssues(error).map((issue) => {
    const path = issue.path.map(String).join('.');
    const received = valueAt(input, issue.path);
    if (isCredential(issue.path, received)) return redactIssue(issue, received);
    // Scalars show type and value (`string "weird"`); null, arrays and objects show their preview alone.
    const shown =
      received === null || typeof received === 'object'
        ? String(preview(received))
        : `${typeof received} ${JSON.stringify(preview(received))}`;
    const echoed = received === undefined || issue.message.endsWith(`received ${shown}`);
    const message = echoed ? issue.message : `${issue.message} (received ${shown})`;
    return { path, message, received: preview(received) };
  });
}

/** Wraps a zod schema so every parse failure is a `ContractValidationError` with the given code. */
export function defineContract<S extends z.ZodType>(name: string, code: string, schema: S): Contract<S> {
  const safeParse: Contract<S>['safeParse'] = (input) => {
    const result = schema.safeParse(input);
    if (result.success) return { success: true, data: result.data };
    return {
      success: false,
      error: new ContractValidationError(code, name, toContractIssues(result.error, input)),
    };
  };
  return {
    name,
    code,
    schema,
    safeParse,
    parse(input) {
      const result = safeParse(input);
      if (!result.success) throw result.error;
      return result.data;
    },
  };
}
