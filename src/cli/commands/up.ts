import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile, parseConfigObject } from '../../config/load-config.js';
import { ControlClient } from '../../control/control-client.js';
import { readControlFiles } from '../../control/state-files.js';
import { isProcessAlive } from '../../process/proc-info.js';
import { pollUntil } from '../../process/process-group.js';
import { type CliIo, println } from '../cli-context.js';
import { LOG_LEVELS, parseLogLevel, parsePort } from '../parse-options.js';
import { ALLOW_REMOTE_HELP, runForeground } from '../run-foreground.js';

/** How long `shic restart` waits for the running daemon to hand over and exit, ms. */
const HANDOVER_TIMEOUT_MS = 60_000;

// `shic up` and `shic restart` take the same arguments: restart is an up that first takes over from the running daemon.
function daemonCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
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
    .option(
      '--adopt',
      'keep model servers across daemon restarts: adopt the previous daemon’s, hand ours over on SIGTERM or `shic restart` (state.adopt)',
    )
    .option('--no-adopt', 'stop model servers with the daemon, even when state.adopt is true')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join('|')}`, parseLogLevel);
}

function configLoader(configPath: string | undefined, command: Command, io: CliIo) {
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
  return { file, load };
}

async function runDaemon(
  configPath: string | undefined,
  opts: Record<string, unknown>,
  command: Command,
  io: CliIo,
  beforeStart?: (stateDir: string, adopt: boolean) => Promise<void>,
): Promise<void> {
  const { file, load } = configLoader(configPath, command, io);
  const loaded = await load();
  // Commander defaults a `--no-x` flag to true: only an explicit --no-gateway overrides gateway.enabled.
  const { gateway, ...rest } = opts;
  await beforeStart?.(loaded.stateDir, (opts.adopt as boolean | undefined) ?? loaded.config.state.adopt);
  await runForeground(
    loaded,
    {
      ...rest,
      ...(gateway === false ? { gateway: false } : {}),
      ...(file ? { reloadConfig: load } : {}),
    },
    io,
  );
}

// Asks the daemon on the state directory to stop, handing its servers over, and waits until it is gone.
async function takeOver(stateDir: string, adopt: boolean, io: CliIo): Promise<void> {
  let pid: number;
  try {
    pid = (await readControlFiles(stateDir)).address.pid;
  } catch {
    println(io, `no shic daemon was running with state directory ${stateDir}; starting one`);
    return;
  }
  const client = await ControlClient.fromStateDir(stateDir);
  try {
    const answer = await client.call<{ keep: boolean; instances: number }>('POST', '/v1/shutdown', {
      keep: adopt,
    });
    println(
      io,
      answer.keep
        ? `asked the running daemon (pid ${pid}) to hand over ${answer.instances} instance(s)`
        : `asked the running daemon (pid ${pid}) to stop; adoption is off (state.adopt), so its servers stop and load again`,
    );
  } finally {
    await client.close();
  }
  if (!(await pollUntil(() => !isProcessAlive(pid), HANDOVER_TIMEOUT_MS, 50))) {
    throw new Error(
      `The daemon (pid ${pid}) did not stop within ${HANDOVER_TIMEOUT_MS / 1000} s; nothing was started.`,
    );
  }
}

/** `shic up [config]`: the foreground daemon; `shic restart [config]`: the same, taking over from the running one. */
export function registerUpCommand(program: Command, io: CliIo): void {
  daemonCommand(
    program,
    'up',
    'run the kernel, its control API and the OpenAI-compatible gateway in the foreground, starting the eager deployments',
  ).action((configPath: string | undefined, opts, command: Command) =>
    runDaemon(configPath, opts, command, io),
  );
  daemonCommand(
    program,
    'restart',
    'replace the running daemon with a new one in this terminal (a new version, a new config); with adoption on (state.adopt or --adopt) its model servers keep running and are adopted, not loaded again',
  ).action((configPath: string | undefined, opts, command: Command) =>
    runDaemon(configPath, opts, command, io, (stateDir, adopt) => takeOver(stateDir, adopt, io)),
  );
}
