import { open, stat } from 'node:fs/promises';
import { InvalidModelError, ModelNotFoundError } from 'self-hosted-inference-core';

/** The first four bytes of every GGUF file. */
export const GGUF_MAGIC = 'GGUF';

const errnoCode = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;

/**
 * Checks that `modelPath` is a readable regular file starting with the GGUF magic bytes, so a wrong path fails
 * before llama-server is spawned instead of as an exit after a model-load attempt.
 * @throws ModelNotFoundError (`model_not_found`) when the file does not exist.
 * @throws InvalidModelError (`invalid_model`) when it is a directory, unreadable, or not a GGUF file.
 */
export async function checkGgufModel(modelPath: string): Promise<void> {
  const context = { backend: 'llama-cpp', path: modelPath };
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(modelPath);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') {
      throw new ModelNotFoundError(
        `Model file ${modelPath} does not exist. Set bootSpec.model to the path of a .gguf file (download one, or convert a model with llama.cpp's convert_hf_to_gguf.py).`,
        { ...context, cause: error },
      );
    }
    throw new InvalidModelError(
      `Model file ${modelPath} cannot be read (${errnoCode(error) ?? String(error)}). Check its permissions.`,
      {
        ...context,
        cause: error,
      },
    );
  }
  if (!info.isFile()) {
    throw new InvalidModelError(
      `Model path ${modelPath} is not a regular file. Set bootSpec.model to the .gguf file itself, not a directory.`,
      context,
    );
  }
  const magic = Buffer.alloc(4);
  let bytesRead = 0;
  try {
    const handle = await open(modelPath, 'r');
    try {
      ({ bytesRead } = await handle.read(magic, 0, 4, 0));
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new InvalidModelError(
      `Model file ${modelPath} cannot be read (${errnoCode(error) ?? String(error)}). Check its permissions.`,
      {
        ...context,
        cause: error,
      },
    );
  }
  const found = magic.subarray(0, bytesRead);
  if (found.toString('latin1') !== GGUF_MAGIC) {
    throw new InvalidModelError(
      `Model file ${modelPath} is not a GGUF file (its first bytes are ${JSON.stringify(found.toString('latin1'))}, expected "GGUF"). llama-server loads only GGUF models: convert it with llama.cpp's convert_hf_to_gguf.py or download a .gguf build of the model.`,
      { ...context, details: { magicHex: found.toString('hex') } },
    );
  }
}
