import { chmod, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BuildTools } from './build-tools-check.js';
import { versionPaths } from './cache-paths.js';
import { publishDir } from './llama-source-bundle.js';
import type { ProvisionContext } from './provision-context.js';
import { runLogged } from './run-logged.js';

/**
 * CMake cache options for a CPU-only, static, offline llama-server build of the bundled llama.cpp.
 * `LLAMA_CURL` is deprecated in this version (downloads use the built-in HTTP client, disabled here
 * via `LLAMA_OPENSSL=OFF`); the web UI would otherwise be downloaded from Hugging Face at build time.
 */
export const LLAMA_SERVER_CMAKE_OPTIONS: readonly string[] = [
  '-DCMAKE_BUILD_TYPE=Release',
  '-DBUILD_SHARED_LIBS=OFF',
  '-DLLAMA_OPENSSL=OFF',
  '-DLLAMA_BUILD_TESTS=OFF',
  '-DLLAMA_BUILD_EXAMPLES=OFF',
  '-DLLAMA_BUILD_UI=OFF',
  '-DLLAMA_USE_PREBUILT_UI=OFF',
];

/** Parses build progress from a cmake/make (`[ 42%] ...`) or ninja (`[42/100] ...`) output line. */
export function parseBuildPercent(line: string): number | undefined {
  const make = /^\[\s*(\d{1,3})%\]/.exec(line);
  if (make?.[1] !== undefined) return Number(make[1]);
  const ninja = /^\[(\d+)\/(\d+)\]/.exec(line);
  if (ninja?.[1] !== undefined && ninja[2] !== undefined && Number(ninja[2]) > 0) {
    return Math.floor((Number(ninja[1]) / Number(ninja[2])) * 100);
  }
  return undefined;
}

/**
 * Configures and builds the `llama-server` target from `srcDir` in a temp build dir, then publishes the
 * binary atomically at `<root>/<bundleVersion>/bin/llama-server`. The build dir is removed afterwards.
 * @param jobs parallel compile jobs. @default os.availableParallelism()
 * @returns the published binary path.
 * @throws {ProvisionError} `provision_failed` naming the log file when cmake fails.
 */
export async function buildLlamaServer(
  ctx: ProvisionContext,
  tools: BuildTools,
  srcDir: string,
  bundleVersion: string,
  jobs: number = availableParallelism(),
): Promise<string> {
  const paths = versionPaths(ctx.root, bundleVersion);
  const tmp = await mkdtemp(join(paths.dir, '.tmp-build-'));
  const buildDir = join(tmp, 'build');
  try {
    ctx.report({ phase: 'configure', message: 'Configuring llama.cpp with CMake' });
    const configure = ['-S', srcDir, '-B', buildDir, ...LLAMA_SERVER_CMAKE_OPTIONS];
    await runLogged(tools.cmake, configure, ctx.log, ctx.logPath, { phase: 'configure', signal: ctx.signal });

    ctx.report({ phase: 'build', message: `Building llama-server with ${jobs} jobs`, percent: 0 });
    let last = -1;
    const onLine = (line: string) => {
      const percent = parseBuildPercent(line);
      if (percent === undefined || percent === last) return;
      last = percent;
      ctx.report({ phase: 'build', message: line.replace(/^\[[^\]]*\]\s*/, ''), percent });
    };
    const build = ['--build', buildDir, '--target', 'llama-server', '--parallel', String(jobs)];
    await runLogged(tools.cmake, build, ctx.log, ctx.logPath, { phase: 'build', signal: ctx.signal, onLine });

    await mkdir(join(tmp, 'bin'));
    await copyFile(join(buildDir, 'bin', 'llama-server'), join(tmp, 'bin', 'llama-server'));
    await chmod(join(tmp, 'bin', 'llama-server'), 0o755);
    await publishDir(join(tmp, 'bin'), join(paths.dir, 'bin'));
    return paths.binary;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
