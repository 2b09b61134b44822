import { open } from 'node:fs/promises';
import type { GgufFile } from './gguf-types.js';
import { GgufTruncatedError, parseGguf } from './parse-gguf.js';

/** First read; most headers (tokenizer included) fit in a few MiB, so one or two reads are typical. */
const FIRST_READ_BYTES = 4 * 1024 * 1024;

/**
 * Reads only the header of a GGUF file (metadata and tensor infos), never its tensor data: a 40 GB model costs
 * a few MiB of reads. The read doubles until the header parses or the file ends.
 * @throws {RangeError} when the file is not a GGUF v2/v3 file or its header is cut short.
 * @throws the `fs` error when the file cannot be opened or read.
 */
export async function readGgufHeader(path: string): Promise<GgufFile & { fileBytes: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    let length = Math.min(size, FIRST_READ_BYTES);
    for (;;) {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      try {
        return { ...parseGguf(buffer.subarray(0, bytesRead)), fileBytes: size };
      } catch (error) {
        if (!(error instanceof GgufTruncatedError) || length >= size) throw error;
        length = Math.min(size, length * 2);
      }
    }
  } finally {
    await handle.close();
  }
}
