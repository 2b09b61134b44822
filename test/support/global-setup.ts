import { realLlamaServer, stderrProgress } from './llama-fixture.js';

// Builds llama-server once, visibly, before any test file starts, instead of inside a test's timeout.
export default async function setup(): Promise<void> {
  const started = Date.now();
  const { binaryPath, modelPath } = await realLlamaServer({ onProgress: stderrProgress('[global-setup]') });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(`[global-setup] llama-server ${binaryPath}, model ${modelPath} (${seconds}s)\n`);
}
