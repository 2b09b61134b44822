import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  BUNDLE_VERSION_PREFIX,
  NODE_LLAMA_CPP_PACKAGE,
  NODE_LLAMA_CPP_VERSION,
  versionPaths,
} from './cache-paths.js';
import type { ProvisionContext } from './provision-context.js';
import { runLogged } from './run-logged.js';

/** Path of the llama SPM vocab GGUF inside a llama.cpp source tree. */
export const VOCAB_RELATIVE_PATH = join('models', 'ggml-vocab-llama-spm.gguf');

/** The extracted `llama/` folder of the npm package plus the version it identifies. */
export interface SourceBundle {
  /** Directory holding `gitRelease.bundle` and `llama.cpp.info.json`. */
  llamaDir: string;
  /** `node-llama-cpp-3.21.1-<llama.cpp tag>-<short commit>`, the cache key. */
  bundleVersion: string;
}

// Rename can lose a race only to an identical result, so losing is success.
async function renameIntoPlace(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(to)) throw error;
    await rm(from, { recursive: true, force: true });
  }
}

/** Moves the finished temp directory `from` to `to` atomically (same filesystem). */
export async function publishDir(from: string, to: string): Promise<void> {
  await mkdir(join(to, '..'), { recursive: true });
  await renameIntoPlace(from, to);
}

async function computeBundleVersion(llamaDir: string): Promise<string> {
  const info = JSON.parse(await readFile(join(llamaDir, 'llama.cpp.info.json'), 'utf8')) as { tag?: string };
  const heads = await execa('git', ['bundle', 'list-heads', join(llamaDir, 'gitRelease.bundle')]);
  const commit = /^([0-9a-f]{7,40})\s/m.exec(heads.stdout)?.[1]?.slice(0, 7) ?? 'unknown';
  const tag = (info.tag ?? 'untagged').replace(/[^A-Za-z0-9._-]/g, '_');
  return `${BUNDLE_VERSION_PREFIX}${tag}-${commit}`;
}

/**
 * Fetches `node-llama-cpp@3.21.1` with `npm pack` (no install scripts run) and extracts its `llama/` folder
 * into `<root>/packages/`, once.
 */
export async function fetchSourceBundle(ctx: ProvisionContext): Promise<SourceBundle> {
  const spec = `${NODE_LLAMA_CPP_PACKAGE}@${NODE_LLAMA_CPP_VERSION}`;
  const finalDir = join(ctx.root, 'packages', `${NODE_LLAMA_CPP_PACKAGE}-${NODE_LLAMA_CPP_VERSION}`);
  const llamaDir = join(finalDir, 'llama');
  if (!existsSync(join(llamaDir, 'gitRelease.bundle'))) {
    ctx.report({ phase: 'fetch', message: `Fetching ${spec} from the npm registry` });
    await mkdir(join(ctx.root, 'packages'), { recursive: true });
    const tmp = await mkdtemp(join(ctx.root, 'packages', '.tmp-'));
    try {
      const run = { phase: 'fetch', signal: ctx.signal, cwd: tmp } as const;
      await runLogged(
        'npm',
        ['pack', spec, '--pack-destination', tmp, '--ignore-scripts'],
        ctx.log,
        ctx.logPath,
        run,
      );
      const tarball = (await readdir(tmp)).find((name) => name.endsWith('.tgz'));
      if (!tarball) throw new Error(`npm pack produced no tarball in ${tmp}`);
      const members = ['gitRelease.bundle', 'llama.cpp.info.json'].map((name) => `package/llama/${name}`);
      await runLogged('tar', ['-xzf', join(tmp, tarball), '-C', tmp, ...members], ctx.log, ctx.logPath, run);
      await publishDir(join(tmp, 'package'), finalDir);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  return { llamaDir, bundleVersion: await computeBundleVersion(llamaDir) };
}

/** Clones the bundle into `<root>/<bundleVersion>/src` (atomically, once) and returns that directory. */
export async function cloneSourceBundle(ctx: ProvisionContext, bundle: SourceBundle): Promise<string> {
  const { src } = versionPaths(ctx.root, bundle.bundleVersion);
  if (existsSync(join(src, VOCAB_RELATIVE_PATH))) return src;
  ctx.report({ phase: 'clone', message: `Cloning llama.cpp source (${bundle.bundleVersion})` });
  await mkdir(join(src, '..'), { recursive: true });
  const tmp = await mkdtemp(join(src, '..', '.tmp-src-'));
  try {
    const args = ['clone', '--quiet', join(bundle.llamaDir, 'gitRelease.bundle'), join(tmp, 'src')];
    await runLogged('git', args, ctx.log, ctx.logPath, { phase: 'clone', signal: ctx.signal });
    await publishDir(join(tmp, 'src'), src);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return src;
}

/** Cached version directories under `root` built from the pinned package, newest first (none when unreadable). */
export function listCachedVersions(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  return entries
    .filter((name) => name.startsWith(BUNDLE_VERSION_PREFIX))
    .sort()
    .reverse();
}

/**
 * Newest cached version directory under `root` (built from the pinned package) for which `probe` holds, so
 * warm caches work offline.
 */
export async function findCachedVersion(
  root: string,
  probe: (bundleVersion: string) => boolean,
): Promise<string | undefined> {
  return listCachedVersions(root).find(probe);
}
