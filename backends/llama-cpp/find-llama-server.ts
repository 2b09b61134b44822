import { existsSync } from 'node:fs';
import { resolveCommand } from 'self-hosted-inference-core';
import { defaultLlamaServerCacheDir, versionPaths } from './provision/cache-paths.js';
import { listCachedVersions } from './provision/llama-source-bundle.js';

/** Where {@link findLlamaServer} found the binary. */
export type LlamaServerSource = 'env' | 'path' | 'cache';

/** A llama-server executable found without building anything. */
export interface FoundLlamaServer {
  /** What to spawn: `SHIC_LLAMA_SERVER` as given, or an absolute path. */
  binaryPath: string;
  source: LlamaServerSource;
}

/** The newest llama-server built into the provisioning cache, if any. */
export function cachedLlamaServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const root = defaultLlamaServerCacheDir(env);
  return listCachedVersions(root)
    .map((version) => versionPaths(root, version).binary)
    .find((binary) => existsSync(binary));
}

/**
 * The one resolution order for a llama-server nobody named explicitly (the library, `shic up` deployments,
 * `shic spawn` and `shic llama-server build` all use it): `SHIC_LLAMA_SERVER`, then `llama-server` on `PATH`,
 * then the newest build in the provisioning cache (`shic llama-server build`). An explicit boot spec or backend
 * option `binaryPath` comes before all of these. Returns undefined when none exists.
 */
export function findLlamaServer(env: NodeJS.ProcessEnv = process.env): FoundLlamaServer | undefined {
  if (env.SHIC_LLAMA_SERVER) return { binaryPath: env.SHIC_LLAMA_SERVER, source: 'env' };
  try {
    return { binaryPath: resolveCommand('llama-server', { PATH: env.PATH }).path, source: 'path' };
  } catch {
    // not on PATH: try the cache
  }
  const cached = cachedLlamaServer(env);
  return cached ? { binaryPath: cached, source: 'cache' } : undefined;
}
