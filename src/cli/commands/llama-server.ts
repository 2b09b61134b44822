import type { Command } from 'commander';
import ora from 'ora';
import { type CliIo, onStopSignal, printJson, println } from '../cli-context.js';
import { parsePositiveInt } from '../parse-options.js';

/** `shic llama-server build`: provision llama-server from the node-llama-cpp bundle into the cache. */
export function registerLlamaServerCommands(program: Command, io: CliIo): void {
  const group = program.command('llama-server').description('manage the llama-server binary');
  group
    .command('build')
    .description(
      'find or build llama-server (SHIC_LLAMA_SERVER, PATH, cache, else build from node-llama-cpp@3.21.1)',
    )
    .option('--cache-dir <dir>', 'cache root')
    .option('--jobs <n>', 'parallel compile jobs', parsePositiveInt)
    .option('--json', 'print { binaryPath, version, source, logFile } as JSON')
    .action(async (opts: { cacheDir?: string; jobs?: number; json?: boolean }) => {
      const { provisionLlamaServer } = await import('../../../backends/llama-cpp/provision/index.js');
      const interactive = Boolean(io.stderr.isTTY) && !opts.json;
      const spinner = interactive
        ? ora({ stream: io.stderr as NodeJS.WriteStream, text: 'resolving llama-server' }).start()
        : undefined;
      let last = '';
      const stop = onStopSignal();
      try {
        const result = await provisionLlamaServer({
          ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
          ...(opts.jobs ? { jobs: opts.jobs } : {}),
          env: io.env,
          signal: stop.signal,
          onProgress: (p) => {
            const text = `${p.phase}${p.percent === undefined ? '' : ` ${p.percent}%`}: ${p.message}`;
            if (spinner) spinner.text = text;
            else if (
              text !== last &&
              (p.percent === undefined || p.percent % 10 === 0 || p.phase !== 'build')
            ) {
              io.stderr.write(`[llama-server] ${text}\n`);
            }
            last = text;
          },
        });
        spinner?.succeed(`llama-server ${result.version} (${result.source})`);
        if (opts.json) printJson(io, result);
        else println(io, result.binaryPath);
      } catch (error) {
        spinner?.fail('llama-server provisioning failed');
        throw error;
      } finally {
        stop.dispose();
      }
    });
}
