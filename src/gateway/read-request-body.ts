import type { IncomingMessage } from 'node:http';
import { KernelError } from '../errors/kernel-error.js';

/**
 * Reads a request body into one Buffer, refusing more than `limitBytes` (413 `body_too_large`) as soon as the
 * limit is passed or a `content-length` announces it. Rejects when the client goes away mid-body.
 */
export function readRequestBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const announced = Number(req.headers['content-length']);
  const tooLarge = () =>
    new KernelError(
      'body_too_large',
      `The request body is larger than the gateway accepts (${limitBytes} bytes).`,
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
