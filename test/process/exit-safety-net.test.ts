import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { alive, killGroupQuietly, killQuietly, waitUntil } from './process-test-helpers.js';

describe('protectGroupOnExit', () => {
  it('SIGKILLs the spawned groups when the kernel process exits normally', async () => {
    const script = path.join(import.meta.dirname, 'exiting-kernel.ts');
    const result = await execa(process.execPath, ['--import', 'tsx', script], {
      timeout: 30_000,
      reject: false,
    });
    expect(result.exitCode).toBe(0);
    const { pid, grandchild } = JSON.parse(result.stdout) as { pid: number; grandchild: number };
    try {
      await waitUntil(() => !alive(pid) && !alive(grandchild), 10_000, 'stand-in and grandchild gone');
    } finally {
      killGroupQuietly(pid);
      killQuietly(grandchild);
    }
  });
});
