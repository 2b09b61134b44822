import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { BinaryNotFoundError } from 'self-hosted-inference-core';

/** A llama-server binary that was found and ran `--version`. */
export interface CheckedLlamaServer {
  /** Absolute path of the executable. */
  path: string;
  /** What `--version` reported, e.g. `1 (80fb11a)`. */
  version: string;
}

const FIX =
  'Install llama.cpp (llama-server on PATH), set the boot spec or backend option binaryPath, or run `shic llama-server build`.';

// Warm starts must not pay for a `--version` run: keyed by path, mtime and size, so a rebuilt binary is re-checked.
const versionCache = new Map<string, Promise<string>>();

function fileInfo(file: string): { isFile: boolean; key: string } | undefined {
  try {
    const info = statSync(file);
    return { isFile: info.isFile(), key: `${file}\0${info.mtimeMs}\0${info.size}` };
  } catch {
    return undefined;
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function notFound(message: string, file: string, details: Record<string, unknown>): never {
  throw new BinaryNotFoundError(`${message} ${FIX}`, { backend: 'llama-cpp', path: file, details });
}

/** Finds the file a spawn of `binary` would run: a path (contains `/`), or a name searched on `PATH`. */
export function resolveLlamaServerBinary(
  binary: string,
  envPath: string | undefined = process.env.PATH,
): string {
  if (binary.includes('/')) {
    const file = path.resolve(binary);
    const info = fileInfo(file);
    if (!info?.isFile)
      notFound(`llama-server binary ${file} does not exist or is not a file.`, file, { binary });
    if (!isExecutable(file)) {
      notFound(`llama-server binary ${file} is not executable (chmod +x ${file}).`, file, {
        binary,
        reason: 'not_executable',
      });
    }
    return file;
  }
  const dirs = (envPath ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const file = path.resolve(dir, binary);
    if (fileInfo(file)?.isFile && isExecutable(file)) return file;
  }
  return notFound(`"${binary}" was not found on PATH.`, binary, { binary, searched: dirs });
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
  const key = fileInfo(file)?.key ?? file;
  let version = versionCache.get(key);
  if (!version) {
    version = runVersion(file, options.timeoutMs ?? 10_000);
    versionCache.set(key, version);
    version.catch(() => versionCache.delete(key));
  }
  return { path: file, version: await version };
}
