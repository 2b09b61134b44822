import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseConfigObject } from '../../config/load-config.js';
import type { CliIo } from '../cli-context.js';
import { parseDurationMs, parsePort } from '../parse-options.js';
import { ALLOW_REMOTE_HELP, runForeground } from '../run-foreground.js';

interface AttachFlags {
  model: string;
  host?: string;
  pull?: boolean;
  ttl?: number;
  controlHost?: string;
  allowRemote?: boolean;
  controlPort?: number;
  logLevel?: 'info';
}

/** `shic attach ollama --model …`: a foreground daemon attached to a running Ollama. */
export function registerAttachCommand(program: Command, io: CliIo): void {
  const attach = program
    .command('attach')
    .description('run a foreground daemon attached to a running service');
  attach
    .command('ollama')
    .description('attach to an Ollama daemon (never started or stopped by shic) and serve it until Ctrl-C')
    .requiredOption('--model <name>', 'model, e.g. llama3.2 or qwen2.5:0.5b')
    .option(
      '--host <url>',
      'Ollama address in any OLLAMA_HOST form (default OLLAMA_HOST, else 127.0.0.1:11434)',
    )
    .option('--pull', 'pull the model when it is missing')
    .option('--ttl <duration>', 'default lease TTL (ms, 30s, 5m)', parseDurationMs)
    .option(
      '--control-host <host>',
      'control API interface (default 127.0.0.1; a non-loopback one needs --allow-remote)',
    )
    .option('--allow-remote', ALLOW_REMOTE_HELP)
    .option('--control-port <port>', 'control API port', parsePort)
    .option('--log-level <level>', 'trace|debug|info|warn|error|silent')
    .action(async (flags: AttachFlags, command: Command) => {
      const name = flags.model.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'ollama';
      const stateDir = command.optsWithGlobals().stateDir as string | undefined;
      const loaded = parseConfigObject(
        {
          ...(stateDir ? { stateDir: resolve(stateDir) } : {}),
          deployments: {
            [name]: {
              backend: 'ollama',
              modelIdentity: flags.model,
              backendOptions: {
                ...(flags.host ? { rootUrl: flags.host } : {}),
                ...(flags.pull ? { pull: true } : {}),
              },
              ...(flags.ttl ? { lease: { ttlMs: flags.ttl } } : {}),
            },
          },
        },
        { env: io.env, fileName: 'shic attach ollama' },
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
