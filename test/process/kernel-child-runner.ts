// Starts test/fixtures/kernel-child.ts in its own Node process and reads the pids it reports.
import { execa } from 'execa';
import { type KernelChildInfo, kernelChild } from './process-test-helpers.js';

/** A running kernel-child process. */
export interface RunningKernelChild {
  info: KernelChildInfo;
  /** Resolves when the kernel-child process has exited. */
  done: Promise<unknown>;
}

/** Runs kernel-child with `stateDir` and flags, resolving once it printed its pids (or rejecting if it exits first). */
export async function runKernelChild(stateDir: string, flags: string[] = []): Promise<RunningKernelChild> {
  const child = execa(process.execPath, ['--import', 'tsx', kernelChild, stateDir, ...flags], {
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const info = await new Promise<KernelChildInfo>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(JSON.parse(out.slice(0, nl)) as KernelChildInfo);
    });
    child.then((r) => reject(new Error(`kernel-child exited early (${r.exitCode}): ${stderr}`)));
  });
  return { info, done: child.then(() => undefined) };
}
