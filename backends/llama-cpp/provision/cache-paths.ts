import { homedir } from 'node:os';
import { join } from 'node:path';

/** The npm package whose bundled llama.cpp source is built; pinned exactly. */
export const NODE_LLAMA_CPP_PACKAGE = 'node-llama-cpp';
/** Pinned version of {@link NODE_LLAMA_CPP_PACKAGE}. */
export const NODE_LLAMA_CPP_VERSION = '3.21.1';
/** Prefix of every versioned cache directory built from the pinned package. */
export const BUNDLE_VERSION_PREFIX = `${NODE_LLAMA_CPP_PACKAGE}-${NODE_LLAMA_CPP_VERSION}-`;

/**
 * Root of this library's cache: `${XDG_CACHE_HOME ?? ~/.cache}/self-hosted-inference-core`.
 * @param env environment to read `XDG_CACHE_HOME` from. @default process.env
 */
export function defaultCacheHome(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.length > 0 ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'self-hosted-inference-core');
}

/**
 * Root of the llama-server cache (holds one directory per bundle version).
 * @default `${defaultCacheHome()}/llama-server`
 */
export function defaultLlamaServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultCacheHome(env), 'llama-server');
}

/** Paths inside the llama-server cache root for one bundle version. */
export interface VersionPaths {
  /** `<root>/<bundleVersion>` */
  dir: string;
  /** `<dir>/bin/llama-server` */
  binary: string;
  /** `<dir>/src`: git clone of the bundle, kept for the vocab files under `models/`. */
  src: string;
  /** `<dir>/build.log` */
  log: string;
}

/** Paths for `bundleVersion` under the cache `root`. */
export function versionPaths(root: string, bundleVersion: string): VersionPaths {
  const dir = join(root, bundleVersion);
  return {
    dir,
    binary: join(dir, 'bin', 'llama-server'),
    src: join(dir, 'src'),
    log: join(dir, 'build.log'),
  };
}
