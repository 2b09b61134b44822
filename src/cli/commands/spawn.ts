import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseConfigObject } from '../../config/load-config.js';
import type { CliIo } from '../cli-context.js';
import { parseDurationMs, parsePort, parsePositiveInt } from '../parse-options.js';
import { ALLOW_REMOTE_HELP, runForeground } from '../run-foreground.js';

interface SpawnFlags {
  model: string;
  ctxSize?: number;
  threads?: number;
  parallel?: number;
  nGpuLayers?: number;
  alias?: string;
  binary?: string;
  ttl?: number;
  idle?: number;
  controlHost?: string;
  allowRemote?: boolean;
  controlPort?: number;
  logLevel?: 'info';
}

/** `shic spawn llama-cpp --model …`: a foreground daemon with one spawned llama-server deployment. */
export function registerSpawnCommand(program: Command, io: CliIo): void {
  const spawn = program.command('spawn').description('run a foreground daemon with one spawned backend');
  spawn
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
      'llama-server binary (default: SHIC_LLAMA_SERVER, PATH, or `shic llama-server build`)',
    )
    .option('--ttl <duration>', 'default lease TTL (ms, 30s, 5m)', parseDurationMs)
    .option('--idle <duration>', 'stop after this long without leases', parseDurationMs)
    .option(
      '--control-host <host>',
      'control API interface (default 127.0.0.1; a non-loopback one needs --allow-remote)',
    )
    .option('--allow-remote', ALLOW_REMOTE_HELP)
    .option('--control-port <port>', 'control API port', parsePort)
    .option('--log-level <level>', 'trace|debug|info|warn|error|silent')
    .action(async (flags: SpawnFlags, command: Command) => {
      const alias = flags.alias ?? basename(flags.model).replace(/\.gguf$/i, '');
      const name = alias.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'llama';
      // The help promises SHIC_LLAMA_SERVER as the default binary, as `shic llama-server build` resolves it.
      const binary = flags.binary ?? io.env.SHIC_LLAMA_SERVER;
      const bootSpec = {
        model: resolve(flags.model),
        alias,
        ...(flags.ctxSize ? { ctxSize: flags.ctxSize } : {}),
        ...(flags.threads ? { threads: flags.threads } : {}),
        ...(flags.parallel ? { parallel: flags.parallel } : {}),
        ...(flags.nGpuLayers ? { nGpuLayers: flags.nGpuLayers } : {}),
        ...(binary ? { binaryPath: resolve(binary) } : {}),
      };
      const stateDir = command.optsWithGlobals().stateDir as string | undefined;
      const loaded = parseConfigObject(
        {
          ...(stateDir ? { stateDir: resolve(stateDir) } : {}),
          deployments: {
            [name]: {
              backend: 'llama-cpp',
              bootSpec,
              modelIdentity: alias,
              ...(flags.ttl ? { lease: { ttlMs: flags.ttl } } : {}),
              ...(flags.idle ? { idleShutdownMs: flags.idle } : {}),
            },
          },
        },
        { env: io.env, fileName: 'shic spawn llama-cpp' },
      );
      await runForeground(
        loaded,
        {
          ...(flags.controlHost ? { host: flags.controlHost, hostFlag: '--control-host' } : {}),
          ...(flags.allowRemote ? { allowRemote: true } : {}),
          ...(flags.controlPort === undefined ? {} : { port: flags.controlPort }),
          ...(flags.logLevel ? { logLevel: flags.logLevel } : {}),
        },
        io,
      );
    });
}
