import type { IncomingMessage } from 'node:http';
import { KernelError } from '../errors/kernel-error.js';
import { readRequestBody } from '../http/read-request-body.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Reads a request body of at most `limitBytes` and parses it as JSON. No body → undefined. A body whose
 * content type is not JSON is refused before it is read.
 * @throws KernelError `unsupported_media_type` (415), `body_too_large` (413, as soon as the limit is passed),
 *   `invalid_json` (400).
 */
export async function readJsonBody(request: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  const chunked = request.headers['transfer-encoding'] !== undefined;
  if (!chunked && !(declared > 0)) return undefined;
  const type = request.headers['content-type'] ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new KernelError(
      'unsupported_media_type',
      `Request bodies must be JSON: send \`content-type: application/json\` (received ${JSON.stringify(type.slice(0, 100)) || 'none'}).`,
      { details: { contentType: type.slice(0, 100) } },
    );
  }
  const body = await readRequestBody(request, limitBytes, 'control.bodyLimitBytes');
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new KernelError('invalid_json', `The request body is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
