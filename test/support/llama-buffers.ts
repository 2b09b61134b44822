// What llama-server itself reports allocating for a model and its arguments: started with `--log-verbosity 4`
// (it prints buffer sizes only then), read until it listens, then stopped. For the estimate-accuracy test and
// benchmark.
import { execa } from 'execa';
import getPort from 'get-port';
import { parseLlamaBufferReport } from '../../backends/llama-cpp/parse-llama-memory-report.js';

/** Reported bytes per part (`model`, `KV`, `output`, `compute`) and in total. */
export interface ReportedBuffers {
  parts: Record<string, number>;
  total: number;
}

/** Runs llama-server on `model` with `args` until it serves, and returns the buffers it reported. */
export async function measureLlamaBuffers(
  binaryPath: string,
  model: string,
  args: readonly string[],
  timeoutMs = 120_000,
): Promise<ReportedBuffers> {
  const port = await getPort({ host: '127.0.0.1' });
  const child = execa(
    binaryPath,
    ['--model', model, '--host', '127.0.0.1', '--port', String(port), '--log-verbosity', '4', ...args],
    { all: true, reject: false, stdin: 'ignore', timeout: timeoutMs },
  );
  const parts: Record<string, number> = {};
  const tail: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let rest = '';
      child.all?.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          tail.push(line);
          if (tail.length > 20) tail.shift();
          const report = parseLlamaBufferReport(line);
          if (report) parts[report.kind] = (parts[report.kind] ?? 0) + report.bytes;
          if (/listening on/.test(line)) resolve();
        }
      });
      void child.then((result) =>
        reject(new Error(`llama-server exited (${result.exitCode}) before listening:\n${tail.join('\n')}`)),
      );
    });
  } finally {
    child.kill('SIGTERM');
    await child;
  }
  return { parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}
