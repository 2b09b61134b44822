import {
  type ProvisionProgress,
  provisionLlamaServer,
  vocabModelPath,
} from '../../backends/llama-cpp/provision/index.js';
import { ensureTinyLlamaModel } from '../../src/testing/tiny-llama-model.js';

/** A real llama-server binary and the tiny model it can load. */
export interface RealLlamaServer {
  binaryPath: string;
  modelPath: string;
  /** The tiny model with a 32768-token training context: generations long enough to cancel mid-way. */
  longModelPath: string;
  /** llama.cpp's vocab-only GGUF (tokenizer for generated models of any shape). */
  vocabPath: string;
}

let pending: Promise<RealLlamaServer> | undefined;

/** Writes provisioning progress to stderr, one line per phase change or 5 % of build progress. */
export function stderrProgress(prefix = '[llama-server]'): (p: ProvisionProgress) => void {
  let lastPercent = -5;
  let lastPhase = '';
  return (p) => {
    const percent = p.percent ?? -1;
    if (p.phase === lastPhase && p.phase === 'build' && percent < lastPercent + 5) return;
    lastPhase = p.phase;
    if (percent >= 0) lastPercent = percent;
    process.stderr.write(`${prefix} ${p.phase}${percent >= 0 ? ` ${percent}%` : ''}: ${p.message}\n`);
  };
}

/**
 * Provisions llama-server (building it once if needed) and the tiny test model. Memoized per process; across
 * vitest workers the provisioner's lock makes later callers wait for the first build.
 */
export function realLlamaServer(
  options: { onProgress?: (p: ProvisionProgress) => void } = {},
): Promise<RealLlamaServer> {
  pending ??= (async () => {
    const onProgress = options.onProgress ?? stderrProgress();
    const { binaryPath } = await provisionLlamaServer({ onProgress });
    const vocabPath = await vocabModelPath({ onProgress });
    const modelPath = await ensureTinyLlamaModel({ vocabPath });
    const longModelPath = await ensureTinyLlamaModel({ vocabPath, contextLength: 32_768 });
    return { binaryPath, modelPath, longModelPath, vocabPath };
  })();
  pending.catch(() => {
    pending = undefined;
  });
  return pending;
}
