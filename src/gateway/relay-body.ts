import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * Copies an upstream response body to the client chunk by chunk, unchanged: the upstream is paused while the
 * client's socket buffer is full and resumed on `drain`, so a slow client slows the upstream and memory stays
 * bounded. A hand-written loop rather than `pipeline`: one listener call per chunk, no stream in between.
 * @param observe sees every chunk before it is written.
 * @param clientGone the rejection when the client closes before the response finished (the upstream body is
 *   destroyed, which aborts the upstream request).
 * @returns resolves once the response finished; rejects with the upstream's error (the response is left to the
 *   caller) or `clientGone`.
 */
export function relayBody(
  body: Readable,
  res: ServerResponse,
  observe: (chunk: Buffer) => void,
  clientGone: unknown,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const onData = (chunk: Buffer) => {
      observe(chunk);
      if (!res.write(chunk)) body.pause();
    };
    const onDrain = () => body.resume();
    const onEnd = () => res.end(() => settle());
    const onError = (error: Error) => settle(error);
    const onClose = () => {
      if (!res.writableFinished) settle(clientGone);
    };
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (error === undefined) return resolve();
      if (!body.destroyed) body.destroy();
      reject(error);
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    res.on('drain', onDrain);
    res.once('close', onClose);
  });
}
