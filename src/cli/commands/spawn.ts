import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliIo } from '../cli-context.js';
import { parseDurationMs, parsePositiveInt } from '../parse-options.js';
import {
  addSingleDeploymentOptions,
  deploymentNameFrom,
  runSingleDeployment,
  type SingleDeploymentFlags,
} from '../run-single-deployment.js';

interface SpawnFlags extends SingleDeploymentFlags {
  model: string;
  ctxSize?: number;
  threads?: number;
  parallel?: number;
  nGpuLayers?: number;
  alias?: string;
  binary?: string;
  idle?: number;
}

/** `shic spawn llama-cpp --model …`: a foreground daemon with one spawned llama-server deployment. */
export function registerSpawnCommand(program: Command, io: CliIo): void {
  const spawn = program.command('spawn').description('run a foreground daemon with one spawned backend');
  const llamaCpp = spawn
    .command('llama-cpp')
    .description('spawn llama-server for a GGUF model and serve it through the control API until Ctrl-C')
    .requiredOption('--model <path>', 'GGUF model file')
    .option('--ctx-size <n>', 'context size in tokens', parsePositiveInt)
    .option('--threads <n>', 'CPU threads', parsePositiveInt)
    .option('--parallel <n>', 'parallel sequences', parsePositiveInt)
    .option('--n-gpu-layers <n>', 'layers offloaded to the GPU', parsePositiveInt)
    .option('--alias <name>', 'model alias (also the deployment name); default the file name')
    .option(
      '--binary <path>',
      'llama-server binary (default: $SHIC_LLAMA_SERVER, else llama-server on PATH, else the `shic llama-server build` cache)',
    )
    .option('--ttl <duration>', 'default lease TTL (ms, 30s, 5m)', parseDurationMs)
    .option('--idle <duration>', 'stop after this long without leases', parseDurationMs);
  addSingleDeploymentOptions(llamaCpp).action(async (flags: SpawnFlags, command: Command) => {
    const alias = flags.alias ?? basename(flags.model).replace(/\.gguf$/i, '');
    // Without --binary the backend resolves it (SHIC_LLAMA_SERVER, PATH, cache), as everywhere else.
    const binary = flags.binary;
    const bootSpec = {
      model: resolve(flags.model),
      alias,
      ...(flags.ctxSize ? { ctxSize: flags.ctxSize } : {}),
      ...(flags.threads ? { threads: flags.threads } : {}),
      ...(flags.parallel ? { parallel: flags.parallel } : {}),
      ...(flags.nGpuLayers ? { nGpuLayers: flags.nGpuLayers } : {}),
      ...(binary ? { binaryPath: resolve(binary) } : {}),
    };
    const deployment = {
      backend: 'llama-cpp',
      bootSpec,
      modelIdentity: alias,
      ...(flags.idle ? { idleShutdownMs: flags.idle } : {}),
    };
    const name = deploymentNameFrom(alias, 'llama');
    await runSingleDeployment(name, deployment, flags, command, io, 'shic spawn llama-cpp');
  });
}
