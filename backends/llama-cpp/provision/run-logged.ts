import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { ProvisionError } from './provision-error.js';

/** Options for {@link runLogged}. */
export interface RunLoggedOptions {
  /** Working directory. @default process.cwd() */
  cwd?: string;
  /** Called with each output line (stdout and stderr interleaved). */
  onLine?: (line: string) => void;
  /** Kills the subprocess (SIGTERM, then SIGKILL after 5000 ms) when aborted. */
  signal?: AbortSignal;
  /** Phase reported in the error when the command fails. */
  phase: string;
}

/** Opens `path` for writing (truncating it); close it with {@link closeLog}. */
export function openLog(path: string): WriteStream {
  return createWriteStream(path, { flags: 'w' });
}

/** Flushes and closes a log stream. */
export function closeLog(log: WriteStream): Promise<void> {
  return new Promise((resolve) => log.end(resolve));
}

/** Last `count` non-empty lines of a text file, oldest first; empty when unreadable. */
export async function tailFile(path: string, count = 30): Promise<string[]> {
  try {
    const lines = (await readFile(path, 'utf8')).split('\n').filter((line) => line.trim().length > 0);
    return lines.slice(-count);
  } catch {
    return [];
  }
}

/**
 * Runs `file args` (no shell) and appends its combined output to `log`.
 * @throws {ProvisionError} code `provision_failed` naming `logPath` and its last lines on a non-zero exit.
 */
export async function runLogged(
  file: string,
  args: readonly string[],
  log: WriteStream,
  logPath: string,
  options: RunLoggedOptions,
): Promise<void> {
  log.write(`$ ${[file, ...args].join(' ')}\n`);
  const subprocess = execa(file, args, {
    cwd: options.cwd,
    all: true,
    buffer: false,
    reject: false,
    stdin: 'ignore',
    cancelSignal: options.signal,
    forceKillAfterDelay: 5000,
    lines: false,
  });
  let pending = '';
  subprocess.all?.setEncoding('utf8');
  subprocess.all?.on('data', (chunk: string) => {
    log.write(chunk);
    const parts = (pending + chunk).split(/\r?\n|\r/);
    pending = parts.pop() ?? '';
    for (const line of parts) options.onLine?.(line);
  });
  const result = await subprocess;
  if (pending.length > 0) options.onLine?.(pending);
  if (result.failed) {
    log.write(`\n[exit] ${result.shortMessage}\n`);
    await new Promise<void>((resolve) => log.write('', () => resolve()));
    const lastLines = await tailFile(logPath);
    const reason = result.isCanceled
      ? 'was aborted'
      : `failed (${(result.shortMessage ?? '').split('\n')[0]})`;
    throw new ProvisionError(
      'provision_failed',
      `${options.phase} step \`${file} ${args.join(' ')}\` ${reason}. See ${logPath}; last lines:\n` +
        lastLines.join('\n'),
      {
        logFile: logPath,
        lastLines,
        phase: options.phase,
        cause: result.isCanceled ? options.signal?.reason : result,
      },
    );
  }
}
