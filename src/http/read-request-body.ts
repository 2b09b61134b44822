import type { IncomingMessage } from 'node:http';
import { KernelError } from '../errors/kernel-error.js';

/**
 * Reads a request body into one Buffer, refusing more than `limitBytes` (413 `body_too_large`, naming the
 * `setting` that sets the limit) as soon as the limit is passed or a `content-length` announces it. Rejects when
 * the client goes away mid-body. Used for the control API's and the gateway's bodies.
 */
export function readRequestBody(req: IncomingMessage, limitBytes: number, setting: string): Promise<Buffer> {
  const announced = Number(req.headers['content-length']);
  const tooLarge = () =>
    new KernelError(
      'body_too_large',
      `The request body is larger than the limit of ${limitBytes} bytes (${setting}).`,
      {
        details: { limitBytes },
      },
    );
  if (Number.isFinite(announced) && announced > limitBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        req.resume();
        reject(tooLarge());
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onClose = () => {
      cleanup();
      reject(new KernelError('client_closed', 'The client closed the connection while sending its request.'));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}
