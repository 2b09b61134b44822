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
  /** Kills the subprocess's process group (SIGTERM, then SIGKILL after 5000 ms) when aborted. */
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

// cmake and make spawn compilers; only killing the whole process group stops a build promptly on abort.
function killGroupOnAbort(pid: number | undefined, signal: AbortSignal | undefined) {
  let aborted = false;
  let forceTimer: NodeJS.Timeout | undefined;
  const kill = (sig: NodeJS.Signals) => {
    try {
      if (pid !== undefined) process.kill(-pid, sig);
    } catch {
      // group already gone
    }
  };
  const onAbort = () => {
    aborted = true;
    kill('SIGTERM');
    forceTimer = setTimeout(() => kill('SIGKILL'), 5000);
  };
  const onExit = () => kill('SIGKILL');
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  process.once('exit', onExit);
  return {
    aborted: () => aborted,
    dispose: () => {
      clearTimeout(forceTimer);
      signal?.removeEventListener('abort', onAbort);
      process.removeListener('exit', onExit);
    },
  };
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
    detached: true,
    lines: false,
  });
  const stopGroup = killGroupOnAbort(subprocess.pid, options.signal);
  let pending = '';
  subprocess.all?.setEncoding('utf8');
  subprocess.all?.on('data', (chunk: string) => {
    log.write(chunk);
    const parts = (pending + chunk).split(/\r?\n|\r/);
    pending = parts.pop() ?? '';
    for (const line of parts) options.onLine?.(line);
  });
  const result = await subprocess.finally(stopGroup.dispose);
  if (pending.length > 0) options.onLine?.(pending);
  if (result.failed) {
    log.write(`\n[exit] ${result.shortMessage}\n`);
    await new Promise<void>((resolve) => log.write('', () => resolve()));
    const lastLines = await tailFile(logPath);
    const reason = stopGroup.aborted()
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
        cause: stopGroup.aborted() ? options.signal?.reason : result,
      },
    );
  }
}
