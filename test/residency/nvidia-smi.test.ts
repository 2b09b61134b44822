import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectMemoryBudget } from '../../src/residency/memory-budget.js';
import { NVIDIA_SMI_ARGS, parseNvidiaSmiCsv, queryNvidiaGpus } from '../../src/residency/nvidia-smi.js';

// No NVIDIA GPU here: the fixtures are stand-ins written in the CSV format `nvidia-smi --query-gpu=…
// --format=csv,noheader,nounits` prints (one GPU per line, memory in MiB, `[N/A]` for fields a GPU cannot report).
const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const MiB = 1024 * 1024;

describe('parseNvidiaSmiCsv (stand-in output)', () => {
  it('reads two GPUs: index, uuid, name and memory in bytes', async () => {
    const gpus = parseNvidiaSmiCsv(await readFile(path.join(FIXTURES, 'nvidia-smi-2x4090.csv'), 'utf8'));
    expect(gpus).toEqual([
      {
        device: 'gpu0',
        index: 0,
        uuid: 'GPU-5f1c2a9e-6d3b-4c8a-9e2f-1a2b3c4d5e6f',
        name: 'NVIDIA GeForce RTX 4090',
        totalBytes: 24564 * MiB,
        usedBytes: 1237 * MiB,
        freeBytes: 22912 * MiB,
      },
      expect.objectContaining({ device: 'gpu1', freeBytes: 24131 * MiB }),
    ]);
  });

  it('skips a GPU whose memory reads [N/A] instead of guessing', async () => {
    const gpus = parseNvidiaSmiCsv(await readFile(path.join(FIXTURES, 'nvidia-smi-mixed.csv'), 'utf8'));
    expect(gpus.map((g) => g.device)).toEqual(['gpu0']);
    expect(gpus[0]!.totalBytes).toBe(81920 * MiB);
  });

  it('ignores driver messages and blank lines', () => {
    const text =
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n\n0, GPU-x, T4, 15360, 0, 15101\n";
    expect(parseNvidiaSmiCsv(text).map((g) => g.freeBytes)).toEqual([15101 * MiB]);
  });
});

describe('queryNvidiaGpus against a stand-in nvidia-smi executable', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'shic-nvsmi-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Answers like nvidia-smi: the CSV for exactly the kernel's query, the real error text otherwise.
  async function standIn(body: string): Promise<string> {
    const file = path.join(dir, `nvidia-smi-${Math.random().toString(36).slice(2)}`);
    await writeFile(file, `#!/usr/bin/env node\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  }

  it('runs the documented query and parses its answer', async () => {
    const csv = await readFile(path.join(FIXTURES, 'nvidia-smi-2x4090.csv'), 'utf8');
    const command = await standIn(`
const expected = ${JSON.stringify(NVIDIA_SMI_ARGS)};
const args = process.argv.slice(2);
if (JSON.stringify(args) !== JSON.stringify(expected)) {
  process.stdout.write('Invalid combination of input arguments. Please run \\'nvidia-smi -h\\' for help.\\n');
  process.exit(2);
}
process.stdout.write(${JSON.stringify(csv)});`);
    const gpus = await queryNvidiaGpus({ command });
    expect(gpus.map((g) => [g.device, g.freeBytes])).toEqual([
      ['gpu0', 22912 * MiB],
      ['gpu1', 24131 * MiB],
    ]);
    const budget = await detectMemoryBudget({
      queryGpus: () => queryNvidiaGpus({ command }),
      reserve: { gpu0: 1024 * MiB },
      budgets: { gpu1: 8192 * MiB },
    });
    expect(budget.devices.gpu0).toMatchObject({
      totalBytes: 22912 * MiB,
      reserveBytes: 1024 * MiB,
      source: 'nvidia-smi',
    });
    // A configured budget wins over the detected one.
    expect(budget.devices.gpu1).toMatchObject({ totalBytes: 8192 * MiB, source: 'configured' });
    expect(budget.devices.system?.source).toMatch(/meminfo|cgroup/);
  });

  it('reports a failing nvidia-smi (driver not loaded) and detects no GPU', async () => {
    const command = await standIn(`
process.stdout.write("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\\n");
process.exit(9);`);
    const errors: unknown[] = [];
    expect(await queryNvidiaGpus({ command, onError: (e) => errors.push(e) })).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it('gives up on a hanging nvidia-smi at its deadline', async () => {
    const command = await standIn('setInterval(() => {}, 1000);');
    const errors: unknown[] = [];
    expect(await queryNvidiaGpus({ command, timeoutMs: 300, onError: (e) => errors.push(e) })).toEqual([]);
    expect(String((errors[0] as Error).message)).toMatch(/timed out/i);
  });

  it('treats a machine without nvidia-smi as having no NVIDIA GPU, silently', async () => {
    const errors: unknown[] = [];
    expect(
      await queryNvidiaGpus({ command: path.join(dir, 'absent'), onError: (e) => errors.push(e) }),
    ).toEqual([]);
    expect(errors).toEqual([]);
  });
});
