import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile, parseConfigObject } from '../../config/load-config.js';
import type { CliIo } from '../cli-context.js';
import { LOG_LEVELS, parseLogLevel, parsePort } from '../parse-options.js';
import { ALLOW_REMOTE_HELP, runForeground } from '../run-foreground.js';

/** `shic up [config]`: the foreground daemon. */
export function registerUpCommand(program: Command, io: CliIo): void {
  program
    .command('up')
    .description(
      'run the kernel, its control API and the OpenAI-compatible gateway in the foreground, starting the eager deployments',
    )
    .argument('[config]', 'config file (default: ./shic.yaml when it exists, else no deployments)')
    .option(
      '--host <host>',
      'control API interface (default 127.0.0.1; a non-loopback one needs --allow-remote)',
    )
    .option('--allow-remote', ALLOW_REMOTE_HELP)
    .option('--port <port>', 'control API port (0 = pick a free one)', parsePort)
    .option(
      '--gateway-host <host>',
      'OpenAI-compatible gateway interface (default gateway.host, 127.0.0.1; elsewhere it needs --allow-remote and gateway.apiKeys)',
    )
    .option('--gateway-port <port>', 'gateway port (default gateway.port; 0 = pick a free one)', parsePort)
    .option(
      '--models-dir <dir>',
      'serve every *.gguf in this folder as a model named after its file (gateway.modelsDir)',
    )
    .option('--no-gateway', 'do not serve the gateway')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join('|')}`, parseLogLevel)
    .action(async (configPath: string | undefined, opts, command: Command) => {
      const file = configPath ?? (existsSync('shic.yaml') ? 'shic.yaml' : undefined);
      const stateDir = command.optsWithGlobals().stateDir as string | undefined;
      // The same reading at start and at every `shic reload` / SIGHUP.
      const load = async () => {
        const loaded = file
          ? await loadConfigFile(file, { env: io.env })
          : parseConfigObject({}, { env: io.env });
        if (stateDir) loaded.stateDir = resolve(stateDir);
        return loaded;
      };
      // Commander defaults a `--no-x` flag to true: only an explicit --no-gateway overrides gateway.enabled.
      const { gateway, ...rest } = opts;
      await runForeground(
        await load(),
        {
          ...rest,
          ...(gateway === false ? { gateway: false } : {}),
          ...(file ? { reloadConfig: load } : {}),
        },
        io,
      );
    });
}
