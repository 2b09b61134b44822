import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realLlamaServer, stderrProgress } from './llama-fixture.js';

// Builds llama-server once, visibly, before any test file starts, instead of inside a test's timeout. Test
// workers inherit SHIC_TEST_PACK_DIR, where packed-tarball.ts leaves this run's `npm pack`.
export default async function setup(): Promise<() => void> {
  const packDir = mkdtempSync(join(tmpdir(), 'shic-test-pack-'));
  process.env.SHIC_TEST_PACK_DIR = packDir;
  const started = Date.now();
  const { binaryPath, modelPath } = await realLlamaServer({ onProgress: stderrProgress('[global-setup]') });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(`[global-setup] llama-server ${binaryPath}, model ${modelPath} (${seconds}s)\n`);
  return () => rmSync(packDir, { recursive: true, force: true });
}
