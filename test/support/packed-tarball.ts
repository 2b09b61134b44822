// `npm pack` of this package, once per test run, shared by the test files that install it. Packing rebuilds
// dist/ from scratch, so concurrent packs would clobber each other: a lock directory serializes them, and the
// first packer leaves the tarball for the rest in the run's directory (set by global-setup.ts).
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { waitUntil } from './wait-until.js';

const ROOT = join(import.meta.dirname, '../..');

/** Path of this package's tarball for the current test run (packed on first use). */
export async function packedTarball(): Promise<string> {
  const dir = process.env.SHIC_TEST_PACK_DIR;
  if (!dir)
    throw new Error('SHIC_TEST_PACK_DIR is not set: run through vitest (test/support/global-setup.ts)');
  const lock = join(dir, '.lock');
  const takeLock = () => {
    try {
      mkdirSync(lock);
      return true;
    } catch {
      return false; // another worker is packing: wait for it to finish
    }
  };
  await waitUntil(takeLock, { timeoutMs: 600_000, intervalMs: 200, message: `the pack lock ${lock}` });
  try {
    const existing = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (existing) return join(dir, existing);
    const packed = await execa('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      timeout: 300_000,
    });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string }>;
    const file = join(dir, info!.filename);
    if (!existsSync(file)) throw new Error(`npm pack reported ${file}, which does not exist`);
    return file;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
