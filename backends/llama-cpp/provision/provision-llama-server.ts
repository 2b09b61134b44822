import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { buildLlamaServer } from './build-llama-server.js';
import { checkBuildTools, findExecutable, type WhichFn } from './build-tools-check.js';
import { defaultLlamaServerCacheDir, versionPaths } from './cache-paths.js';
import { cloneSourceBundle, fetchSourceBundle, findCachedVersion } from './llama-source-bundle.js';
import { probeLlamaServerVersion } from './probe-llama-server.js';
import type { ProvisionContext, ProvisionProgress } from './provision-context.js';
import { ProvisionError } from './provision-error.js';
import { withProvisionLock } from './provision-lock.js';
import { closeLog, openLog } from './run-logged.js';

/** Options for {@link provisionLlamaServer}. */
export interface ProvisionLlamaServerOptions {
  /** Cache root; each bundle version gets `<cacheDir>/<bundleVersion>/`. @default `${XDG_CACHE_HOME ?? ~/.cache}/self-hosted-inference-core/llama-server` */
  cacheDir?: string;
  /** Receives debug/info records for each step. */
  logger?: Logger;
  /** Called on each phase change and on each new build percentage. */
  onProgress?: (progress: ProvisionProgress) => void;
  /** Aborts waiting for the lock and kills running fetch/build subprocesses. */
  signal?: AbortSignal;
  /** Parallel compile jobs. @default os.availableParallelism() */
  jobs?: number;
  /** Environment read for `SHIC_LLAMA_SERVER`, `PATH`, `XDG_CACHE_HOME`, `CXX`. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Tool lookup (injectable for tests). @default `findExecutable` on `env.PATH` */
  which?: WhichFn;
  /** Platform used for install hints. @default process.platform */
  platform?: NodeJS.Platform;
}

/** Where a provisioned llama-server came from and how to run it. */
export interface ProvisionedLlamaServer {
  /** Absolute path of a runnable `llama-server`. */
  binaryPath: string;
  /** What `llama-server --version` reports, e.g. `1 (80fb11a)`. */
  version: string;
  /** `env` = SHIC_LLAMA_SERVER, `path` = found on PATH, `cache` = built earlier, `built` = built now. */
  source: 'path' | 'env' | 'cache' | 'built';
  /** Build log, for `cache` and `built`. */
  logFile?: string;
}

// Each candidate must prove it runs, so a broken binary is skipped (or reported) rather than spawned later.
async function fromEnvOrPath(
  env: NodeJS.ProcessEnv,
  which: WhichFn,
): Promise<ProvisionedLlamaServer | undefined> {
  const fromEnv = env.SHIC_LLAMA_SERVER;
  if (fromEnv) {
    const version = await probeLlamaServerVersion(fromEnv);
    if (!version) {
      throw new ProvisionError(
        'provision_failed',
        `SHIC_LLAMA_SERVER is set to ${JSON.stringify(fromEnv)} but \`${fromEnv} --version\` does not run. ` +
          'Point it at a working llama-server binary or unset it.',
        { phase: 'resolve' },
      );
    }
    return { binaryPath: fromEnv, version, source: 'env' };
  }
  const onPath = await which('llama-server');
  const version = onPath ? await probeLlamaServerVersion(onPath) : undefined;
  return onPath && version ? { binaryPath: onPath, version, source: 'path' } : undefined;
}

async function fromCache(root: string): Promise<ProvisionedLlamaServer | undefined> {
  const cached = await findCachedVersion(root, (v) => existsSync(versionPaths(root, v).binary));
  if (!cached) return undefined;
  const paths = versionPaths(root, cached);
  const version = await probeLlamaServerVersion(paths.binary);
  if (!version) return undefined;
  return { binaryPath: paths.binary, version, source: 'cache', logFile: paths.log };
}

/**
 * Finds or builds a `llama-server`: env `SHIC_LLAMA_SERVER`, then `llama-server` on PATH, then the cache, then
 * a build from the llama.cpp source bundled in `node-llama-cpp@3.21.1`. Concurrent callers (processes) share
 * one build through a lock file; the second waits and then reuses the first's result.
 * @throws {ProvisionError} `build_tools_missing` (says what to install) or `provision_failed` (names the log).
 */
export async function provisionLlamaServer(
  options: ProvisionLlamaServerOptions = {},
): Promise<ProvisionedLlamaServer> {
  const env = options.env ?? process.env;
  const which = options.which ?? ((command: string) => findExecutable(command, env.PATH ?? ''));
  const root = options.cacheDir ?? defaultLlamaServerCacheDir(env);
  const report = (progress: ProvisionProgress) => {
    options.logger?.debug({ progress }, 'llama-server provisioning');
    options.onProgress?.(progress);
  };
  report({ phase: 'resolve', message: 'Looking for llama-server (SHIC_LLAMA_SERVER, PATH, cache)' });
  const found = (await fromEnvOrPath(env, which)) ?? (await fromCache(root));
  if (found) {
    report({
      phase: 'done',
      message: `Using ${found.binaryPath} (${found.source}, version ${found.version})`,
    });
    return found;
  }
  const tools = await checkBuildTools({
    which,
    env,
    ...(options.platform ? { platform: options.platform } : {}),
  });
  const onWait = (holder: string) =>
    report({ phase: 'resolve', message: `Waiting for another provisioner (${holder}) to finish` });
  return withProvisionLock(root, () => buildUnderLock(root, tools, options, report), {
    onWait,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

async function buildUnderLock(
  root: string,
  tools: Awaited<ReturnType<typeof checkBuildTools>>,
  options: ProvisionLlamaServerOptions,
  report: (progress: ProvisionProgress) => void,
): Promise<ProvisionedLlamaServer> {
  const cached = await fromCache(root);
  if (cached) {
    report({ phase: 'done', message: `Using ${cached.binaryPath} (built by another process)` });
    return cached;
  }
  const logPath = join(root, 'provision.log');
  const log = openLog(logPath);
  const ctx: ProvisionContext = {
    root,
    log,
    logPath,
    report,
    signal: options.signal,
    logger: options.logger,
  };
  const started = Date.now();
  let binaryPath: string;
  let bundleVersion: string;
  try {
    const bundle = await fetchSourceBundle(ctx);
    bundleVersion = bundle.bundleVersion;
    const src = await cloneSourceBundle(ctx, bundle);
    binaryPath = await buildLlamaServer(ctx, tools, src, bundleVersion, options.jobs);
  } finally {
    await closeLog(log);
  }
  const paths = versionPaths(root, bundleVersion);
  await copyFile(logPath, paths.log);
  const version = await probeLlamaServerVersion(binaryPath);
  if (!version) {
    throw new ProvisionError(
      'provision_failed',
      `Built ${binaryPath} but \`--version\` does not run; see ${paths.log}`,
      {
        logFile: paths.log,
        phase: 'build',
      },
    );
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  options.logger?.info({ binaryPath, version, seconds }, 'llama-server built');
  report({ phase: 'done', message: `Built ${binaryPath} in ${seconds}s`, percent: 100 });
  return { binaryPath, version, source: 'built', logFile: paths.log };
}
