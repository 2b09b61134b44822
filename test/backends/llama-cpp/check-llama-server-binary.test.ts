import { chmod, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLlamaServerBinary } from '../../../backends/llama-cpp/index.js';
import { realLlamaServer } from '../../support/llama-fixture.js';
import { failure, useTempDir } from './test-setup.js';

const dir = useTempDir('shic-llama-bin-');

describe('checkLlamaServerBinary', () => {
  it('resolves the real llama-server and reads its version', async () => {
    const { binaryPath } = await realLlamaServer();
    const checked = await checkLlamaServerBinary(binaryPath);
    expect(checked.path).toBe(binaryPath);
    expect(checked.version).toMatch(/\S/);
  });

  it('finds a binary by name on the given PATH', async () => {
    const { binaryPath } = await realLlamaServer();
    const checked = await checkLlamaServerBinary('llama-server', { envPath: path.dirname(binaryPath) });
    expect(checked.path).toBe(binaryPath);
  });

  it('reports a name missing from PATH as binary_not_found with the three fixes', async () => {
    const error = await failure(checkLlamaServerBinary('llama-server', { envPath: dir() }));
    expect(error.code).toBe('binary_not_found');
    expect(error.path).toBe('llama-server');
    expect(error.details.searched).toEqual([dir()]);
    expect(error.message).toContain('binaryPath');
    expect(error.message).toContain('shic llama-server build');
  });

  it('reports a missing path as binary_not_found naming it', async () => {
    const file = path.join(dir(), 'nope', 'llama-server');
    const error = await failure(checkLlamaServerBinary(file));
    expect(error.code).toBe('binary_not_found');
    expect(error.path).toBe(file);
    expect(error.message).toContain(file);
  });

  it('reports a non-executable file as binary_not_found with reason not_executable', async () => {
    const file = path.join(dir(), 'not-executable');
    await writeFile(file, '#!/bin/sh\necho version: 1\n');
    await chmod(file, 0o644);
    const error = await failure(checkLlamaServerBinary(file));
    expect(error.code).toBe('binary_not_found');
    expect(error.details.reason).toBe('not_executable');
    expect(error.message).toContain(`chmod +x ${file}`);
  });

  it('reports a binary whose --version fails as binary_not_found with its output', async () => {
    const file = path.join(dir(), 'broken-server');
    await writeFile(
      file,
      '#!/bin/sh\necho "error while loading shared libraries: libggml.so" >&2\nexit 127\n',
    );
    await chmod(file, 0o755);
    const error = await failure(checkLlamaServerBinary(file));
    expect(error.code).toBe('binary_not_found');
    expect(error.details.reason).toBe('version_failed');
    expect(error.details.output).toEqual(['error while loading shared libraries: libggml.so']);
  });

  it('reports a binary that hangs on --version as binary_not_found after the timeout', async () => {
    const file = path.join(dir(), 'hanging-server');
    await writeFile(file, '#!/bin/sh\nexec sleep 30\n');
    await chmod(file, 0o755);
    const error = await failure(checkLlamaServerBinary(file, { timeoutMs: 300 }));
    expect(error.code).toBe('binary_not_found');
    expect(error.message).toContain('within 300 ms');
  });

  it('runs --version once per binary version, and again after the file changes', async () => {
    const file = path.join(dir(), 'counting-server');
    const counter = path.join(dir(), 'count');
    const script = `#!/bin/sh\necho x >> ${counter}\necho "version: 7 (abc)"\n`;
    await writeFile(file, script);
    await chmod(file, 0o755);
    const runs = async () => (await stat(counter)).size / 2;

    expect((await checkLlamaServerBinary(file)).version).toBe('7 (abc)');
    await checkLlamaServerBinary(file);
    expect(await runs()).toBe(1);

    const later = new Date(Date.now() + 5_000);
    await utimes(file, later, later);
    await checkLlamaServerBinary(file);
    expect(await runs()).toBe(2);
  });
});
