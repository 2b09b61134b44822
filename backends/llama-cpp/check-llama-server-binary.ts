import { statSync } from 'node:fs';
import { execa } from 'execa';
import { BinaryNotFoundError, KernelError, resolveCommand } from 'self-hosted-inference-core';

/** A llama-server binary that was found and ran `--version`. */
export interface CheckedLlamaServer {
  /** Absolute path of the executable. */
  path: string;
  /** What `--version` reported, e.g. `1 (80fb11a)`. */
  version: string;
}

const FIX =
  'Install llama.cpp (llama-server on PATH), set SHIC_LLAMA_SERVER or the boot spec / backend option binaryPath, or run `shic llama-server build`.';

// Warm starts must not pay for a `--version` run: keyed by path, mtime and size, so a rebuilt binary is re-checked.
const versionCache = new Map<string, Promise<string>>();

function cacheKey(file: string): string {
  try {
    const info = statSync(file);
    return `${file}\0${info.mtimeMs}\0${info.size}`;
  } catch {
    return file;
  }
}

function notFound(message: string, file: string, details: Record<string, unknown>): never {
  throw new BinaryNotFoundError(`${message} ${FIX}`, { backend: 'llama-cpp', path: file, details });
}

/**
 * Finds the file a spawn of `binary` would run: a path (contains `/`), or a name searched on `PATH`
 * (the kernel's `resolveCommand`, with the llama.cpp fixes added to its error).
 * @throws BinaryNotFoundError (`binary_not_found`) naming the path when it is missing or not executable.
 */
export function resolveLlamaServerBinary(
  binary: string,
  envPath: string | undefined = process.env.PATH,
): string {
  try {
    return resolveCommand(binary, { PATH: envPath }).path;
  } catch (error) {
    if (!KernelError.isInstance(error)) throw error;
    throw new BinaryNotFoundError(`${error.message} ${FIX}`, {
      backend: 'llama-cpp',
      ...(error.path ? { path: error.path } : {}),
      details: { ...error.details, binary },
    });
  }
}

async function runVersion(file: string, timeoutMs: number): Promise<string> {
  const result = await execa(file, ['--version'], {
    all: true,
    reject: false,
    stdin: 'ignore',
    timeout: timeoutMs,
  });
  const output = (result.all ?? '').trim();
  if (result.failed) {
    const why = result.timedOut
      ? `did not answer --version within ${timeoutMs} ms`
      : `failed to run --version (${result.exitCode === undefined ? result.shortMessage : `exit code ${result.exitCode}`})`;
    const tail = output.split('\n').slice(-5);
    notFound(`llama-server binary ${file} ${why}.`, file, { reason: 'version_failed', output: tail });
  }
  return /^version:\s*(.+)$/m.exec(output)?.[1]?.trim() ?? (output.split('\n')[0]?.trim() || 'unknown');
}

/**
 * Resolves the llama-server binary and checks it runs `--version` within `timeoutMs`; the result is cached per
 * binary path, mtime and size.
 * @param timeoutMs Upper bound of the `--version` run, in ms. @default 10000
 * @throws BinaryNotFoundError (`binary_not_found`) naming the path and the fix when the binary is missing, not
 *   executable, or does not run.
 */
export async function checkLlamaServerBinary(
  binary: string,
  options: { envPath?: string | undefined; timeoutMs?: number } = {},
): Promise<CheckedLlamaServer> {
  const file = resolveLlamaServerBinary(binary, 'envPath' in options ? options.envPath : process.env.PATH);
  const key = cacheKey(file);
  let version = versionCache.get(key);
  if (!version) {
    version = runVersion(file, options.timeoutMs ?? 10_000);
    versionCache.set(key, version);
    version.catch(() => versionCache.delete(key));
  }
  return { path: file, version: await version };
}
