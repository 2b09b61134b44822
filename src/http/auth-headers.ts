import { InvalidBootSpecError } from '../errors/error-catalog.js';
import { Secret } from '../secret/secret.js';

/** Header names whose values are credentials: held as Secrets. */
const SENSITIVE_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'cookie']);

/**
 * The headers an attached backend sends on every request: names lower-cased (a name given twice is refused),
 * credential values wrapped in `Secret`, and `apiKey` as `authorization: Bearer <key>` (refused beside an
 * explicit `authorization` header).
 * @throws InvalidBootSpecError (`invalid_boot_spec`) naming the field, for `backend`.
 */
export function authHeaders(
  headers: Record<string, string | Secret<string>>,
  apiKey: string | Secret<string> | undefined,
  backend: string,
): Record<string, string | Secret<string>> {
  const fail = (message: string, field: string): never => {
    throw new InvalidBootSpecError(message, { backend, details: { field } });
  };
  const out: Record<string, string | Secret<string>> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower in out) {
      fail(
        `Header "${name}" is given twice (header names are case-insensitive); keep one.`,
        `headers.${name}`,
      );
    }
    out[lower] = SENSITIVE_HEADERS.has(lower) ? Secret.from(value) : value;
  }
  if (apiKey !== undefined) {
    if ('authorization' in out)
      fail('Both apiKey and an "authorization" header are set; pass only one of them.', 'apiKey');
    const key = Secret.isInstance(apiKey) ? (apiKey as Secret<string>).expose() : apiKey;
    out.authorization = new Secret(`Bearer ${key}`);
  }
  return out;
}
