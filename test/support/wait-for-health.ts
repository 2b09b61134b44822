// Servers under test (real llama-server, stand-in daemons) are ready once GET /health answers 2xx; a refused
// connection while they boot counts as "not yet".
import { waitUntil } from './wait-until.js';

/**
 * Polls `GET <baseUrl>/health` until it answers 2xx.
 * @param options.timeoutMs How long to keep polling, in milliseconds. @default waitUntil's
 * @param options.message What is awaited, for the timeout error.
 * @throws Error from waitUntil once the deadline passes.
 */
export async function waitForHealth(
  baseUrl: string,
  options: { timeoutMs?: number; message: string },
): Promise<void> {
  await waitUntil(
    () =>
      fetch(`${baseUrl}/health`).then(
        (r) => r.ok,
        () => false,
      ),
    options,
  );
}
