import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { type CliIo, onStopSignal, printJson, println } from '../cli-context.js';
import { parsePositiveInt } from '../parse-options.js';

/** Where `shic tiny-model` writes when no path is given: what examples/shic.yaml names, relative to the cwd. */
export const DEFAULT_TINY_MODEL_PATH = 'models/tiny-llama.gguf';

/** `shic tiny-model [path]`: the tiny random-weight test model, so configs and examples run without downloads. */
export function registerTinyModelCommand(program: Command, io: CliIo): void {
  program
    .command('tiny-model')
    .description(
      'write the tiny random-weight llama GGUF test model (~17 MB; answers with nonsense tokens) for trying shic without a download',
    )
    .argument('[path]', 'output file', DEFAULT_TINY_MODEL_PATH)
    .option('--seed <n>', 'weights seed (the same seed writes the same bytes)', parsePositiveInt)
    .option('--json', 'print { path } as JSON')
    .action(async (path: string, opts: { seed?: number; json?: boolean }) => {
      const { vocabModelPath } = await import('../../../backends/llama-cpp/provision/index.js');
      const { writeTinyLlamaModel } = await import('../../testing/tiny-llama-model.js');
      const stop = onStopSignal();
      try {
        // The tokenizer comes from the llama.cpp source that `shic llama-server build` also uses (cached once).
        const vocabPath = await vocabModelPath({
          env: io.env,
          signal: stop.signal,
          onProgress: (p) => io.stderr.write(`[tiny-model] ${p.phase}: ${p.message}\n`),
        });
        const target = resolve(path);
        await mkdir(dirname(target), { recursive: true });
        await writeTinyLlamaModel({ path: target, vocabPath, ...(opts.seed ? { seed: opts.seed } : {}) });
        if (opts.json) printJson(io, { path: target });
        else println(io, target);
      } finally {
        stop.dispose();
      }
    });
}
