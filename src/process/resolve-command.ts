import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { BinaryNotFoundError } from '../errors/error-catalog.js';

/** Where a command was found. */
export interface ResolvedCommand {
  /** Absolute path of the executable file. */
  path: string;
  /** True when it was found by searching `PATH` (the command had no `/`). */
  fromPath: boolean;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
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

/**
 * Finds the executable a spawn would run, so a missing or non-executable binary is a clear typed error
 * before anything starts (instead of an ENOENT from deep inside the spawn).
 * A command containing `/` is a path (relative ones against `cwd`); otherwise `PATH` from `env` is searched.
 * @param env Environment whose `PATH` is searched. @default process.env
 * @param cwd Directory relative paths are resolved against. @default process.cwd()
 * @throws BinaryNotFoundError (`binary_not_found`) when the file does not exist, is not a regular file,
 *   is not executable, or is not on `PATH`; the error names the path (and the directories searched).
 */
export function resolveCommand(
  command: string,
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): ResolvedCommand {
  if (typeof command !== 'string' || command.trim() === '') {
    throw new BinaryNotFoundError(
      `The command to run is empty (received ${JSON.stringify(command)} of type ${typeof command}); pass a program name or path.`,
      { details: { command } },
    );
  }
  if (command.includes('/')) {
    const file = path.resolve(cwd, command);
    if (!isFile(file)) {
      throw new BinaryNotFoundError(
        `Program "${command}" not found: ${file} does not exist or is not a file. Check the path, or install the program.`,
        { path: file, details: { command } },
      );
    }
    if (!isExecutable(file)) {
      throw new BinaryNotFoundError(
        `Program ${file} is not executable. Make it executable (chmod +x ${file}) or point to the right binary.`,
        { path: file, details: { command, reason: 'not_executable' } },
      );
    }
    return { path: file, fromPath: false };
  }
  const searchPath = env.PATH ?? '';
  // PATH often names a directory twice; list each once in the error.
  const dirs = [...new Set(searchPath.split(path.delimiter).filter((d) => d !== ''))];
  let notExecutable: string | undefined;
  for (const dir of dirs) {
    const file = path.resolve(cwd, dir, command);
    if (!isFile(file)) continue;
    if (isExecutable(file)) return { path: file, fromPath: true };
    notExecutable ??= file;
  }
  if (notExecutable !== undefined) {
    throw new BinaryNotFoundError(
      `Program "${command}" was found at ${notExecutable} but is not executable. Make it executable (chmod +x ${notExecutable}) or put the right binary earlier on PATH.`,
      { path: notExecutable, details: { command, searched: dirs, reason: 'not_executable' } },
    );
  }
  throw new BinaryNotFoundError(
    `Program "${command}" not found on PATH (searched: ${dirs.length ? dirs.join(', ') : 'PATH is empty'}). Install it, add its directory to PATH, or pass an absolute path.`,
    { path: command, details: { command, searched: dirs } },
  );
}
