import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { defaultLlamaServerCacheDir, versionPaths } from './cache-paths.js';
import {
  cloneSourceBundle,
  fetchSourceBundle,
  findCachedVersion,
  VOCAB_RELATIVE_PATH,
} from './llama-source-bundle.js';
import type { ProvisionContext, ProvisionProgress } from './provision-context.js';
import { withProvisionLock } from './provision-lock.js';
import { closeLog, openLog } from './run-logged.js';

/** Options for {@link llamaCppSourceDir} and {@link vocabModelPath}. */
export interface LlamaCppSourceOptions {
  /** Cache root shared with `provisionLlamaServer`. @default `${XDG_CACHE_HOME ?? ~/.cache}/self-hosted-inference-core/llama-server` */
  cacheDir?: string;
  /** Receives fetch/clone progress. */
  onProgress?: (progress: ProvisionProgress) => void;
  /** Aborts waiting for the lock and kills running subprocesses. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Read for `XDG_CACHE_HOME`. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * Directory of the llama.cpp source cloned from the bundle in `node-llama-cpp@3.21.1`, fetching and cloning it
 * (no build) when the cache has none — e.g. when llama-server itself came from PATH. Offline when cached.
 * @throws {ProvisionError} `provision_failed` when the fetch or clone fails.
 */
export async function llamaCppSourceDir(options: LlamaCppSourceOptions = {}): Promise<string> {
  const root = options.cacheDir ?? defaultLlamaServerCacheDir(options.env);
  const cachedSrc = async () => {
    const version = await findCachedVersion(root, (v) =>
      existsSync(join(versionPaths(root, v).src, VOCAB_RELATIVE_PATH)),
    );
    return version ? versionPaths(root, version).src : undefined;
  };
  const hit = await cachedSrc();
  if (hit) return hit;
  return withProvisionLock(
    root,
    async () => {
      const again = await cachedSrc();
      if (again) return again;
      const logPath = join(root, 'provision.log');
      const log = openLog(logPath);
      const report = (p: ProvisionProgress) => options.onProgress?.(p);
      const ctx: ProvisionContext = {
        root,
        log,
        logPath,
        report,
        signal: options.signal,
        logger: options.logger,
      };
      try {
        return await cloneSourceBundle(ctx, await fetchSourceBundle(ctx));
      } finally {
        await closeLog(log);
      }
    },
    {
      onWait: (holder) =>
        options.onProgress?.({
          phase: 'resolve',
          message: `Waiting for another provisioner (${holder}) to finish`,
        }),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
}

/**
 * Path of `models/ggml-vocab-llama-spm.gguf` (a vocab-only llama GGUF) in the cached llama.cpp source; see
 * {@link llamaCppSourceDir}.
 */
export async function vocabModelPath(options: LlamaCppSourceOptions = {}): Promise<string> {
  return join(await llamaCppSourceDir(options), VOCAB_RELATIVE_PATH);
}
