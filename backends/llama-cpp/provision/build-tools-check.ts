import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { ProvisionError } from './provision-error.js';

/** Resolves a command name to an executable path, or `undefined` when it is not installed. */
export type WhichFn = (command: string) => Promise<string | undefined>;

/**
 * Finds `command` on `PATH` without a shell (like `which`).
 * @param pathEnv search path. @default process.env.PATH
 */
export async function findExecutable(
  command: string,
  pathEnv = process.env.PATH ?? '',
): Promise<string | undefined> {
  const candidates = isAbsolute(command)
    ? [command]
    : pathEnv
        .split(delimiter)
        .filter((dir) => dir.length > 0)
        .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Paths of the tools a build needs. */
export interface BuildTools {
  git: string;
  cmake: string;
  /** The C++ compiler found (`$CXX`, `c++`, `g++` or `clang++`). */
  cxx: string;
}

/** The install command to suggest on `platform`. */
export function installHint(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'run `xcode-select --install` and `brew install cmake`';
  if (platform === 'linux') {
    return 'run `sudo apt-get install cmake g++ git` (Debian/Ubuntu) or the equivalent for your distribution';
  }
  return 'install CMake, Git and a C++ compiler and put them on PATH';
}

/**
 * Checks that git, cmake and a C++ compiler are installed.
 * @param options.which lookup used for each tool. @default findExecutable on process.env.PATH
 * @param options.platform decides the install hint. @default process.platform
 * @param options.env read for `CXX`. @default process.env
 * @throws {ProvisionError} code `build_tools_missing`, naming each missing tool and what to install.
 */
export async function checkBuildTools(
  options: { which?: WhichFn; platform?: NodeJS.Platform; env?: NodeJS.ProcessEnv } = {},
): Promise<BuildTools> {
  const which = options.which ?? ((command: string) => findExecutable(command));
  const cxxNames = [options.env?.CXX ?? process.env.CXX, 'c++', 'g++', 'clang++'].filter(
    (name): name is string => typeof name === 'string' && name.length > 0,
  );
  const git = await which('git');
  const cmake = await which('cmake');
  let cxx: string | undefined;
  for (const name of cxxNames) {
    cxx = await which(name);
    if (cxx) break;
  }
  const missing = [
    git ? [] : ['git'],
    cmake ? [] : ['cmake'],
    cxx ? [] : ['C++ compiler (g++ or clang++)'],
  ].flat();
  if (!git || !cmake || !cxx) {
    throw new ProvisionError(
      'build_tools_missing',
      `Cannot build llama-server: missing ${missing.join(', ')}. To fix, ${installHint(options.platform)}, ` +
        'or set SHIC_LLAMA_SERVER to an existing llama-server binary.',
      { missing, phase: 'resolve' },
    );
  }
  return { git, cmake, cxx };
}
