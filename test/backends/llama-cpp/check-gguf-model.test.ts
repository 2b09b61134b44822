import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGgufModel } from '../../../backends/llama-cpp/index.js';
import { rejectedKernelError } from '../../support/kernel-errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'shic-gguf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const failure = (modelPath: string) => rejectedKernelError(checkGgufModel(modelPath));

describe('checkGgufModel', () => {
  it('accepts a file that starts with the GGUF magic', async () => {
    const file = path.join(dir, 'ok.gguf');
    await writeFile(file, Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0])]));
    await expect(checkGgufModel(file)).resolves.toBeUndefined();
  });

  it('reports a missing file as model_not_found naming the path and the fix', async () => {
    const file = path.join(dir, 'missing.gguf');
    const error = await failure(file);
    expect(error.code).toBe('model_not_found');
    expect(error.path).toBe(file);
    expect(error.message).toContain(file);
    expect(error.message).toContain('bootSpec.model');
  });

  it('reports a non-GGUF file as invalid_model with the bytes it found', async () => {
    const file = path.join(dir, 'model.safetensors');
    await writeFile(file, '{"__metadata__": {}}');
    const error = await failure(file);
    expect(error.code).toBe('invalid_model');
    expect(error.path).toBe(file);
    expect(error.message).toContain('not a GGUF file');
    expect(error.details.magicHex).toBe(Buffer.from('{"__').toString('hex'));
  });

  it('reports a file shorter than the magic as invalid_model', async () => {
    const file = path.join(dir, 'short.gguf');
    await writeFile(file, 'GG');
    expect((await failure(file)).code).toBe('invalid_model');
  });

  it('reports a directory as invalid_model', async () => {
    const error = await failure(dir);
    expect(error.code).toBe('invalid_model');
    expect(error.message).toContain('not a regular file');
  });
});
