// `npm pack` of this package, once per test run, shared by the test files that install it. Packing rebuilds
// dist/ from scratch, so concurrent packs would clobber each other: a lock directory serializes them, and the
// first packer leaves the tarball for the rest in the run's directory (set by global-setup.ts).
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';

const ROOT = join(import.meta.dirname, '../..');

/** Path of this package's tarball for the current test run (packed on first use). */
export async function packedTarball(): Promise<string> {
  const dir = process.env.SHIC_TEST_PACK_DIR;
  if (!dir)
    throw new Error('SHIC_TEST_PACK_DIR is not set: run through vitest (test/support/global-setup.ts)');
  const lock = join(dir, '.lock');
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await delay(200);
    }
  }
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
