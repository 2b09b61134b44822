import { Command } from 'commander';
import type { CliIo } from './cli-context.js';
import { registerAttachCommand } from './commands/attach.js';
import { registerConfigCommands } from './commands/config.js';
import { registerEnsureCommand } from './commands/ensure.js';
import { registerEventsCommand } from './commands/events.js';
import { registerHealthCommand } from './commands/health.js';
import { registerInstanceCommands } from './commands/instances.js';
import { registerLeaseCommands } from './commands/leases.js';
import { registerLlamaServerCommands } from './commands/llama-server.js';
import { registerPsCommand } from './commands/ps.js';
import { registerReloadCommand } from './commands/reload.js';
import { registerRequestsCommand } from './commands/requests.js';
import { registerSpawnCommand } from './commands/spawn.js';
import { registerTinyModelCommand } from './commands/tiny-model.js';
import { registerUiCommand } from './commands/ui.js';
import { registerUpCommand } from './commands/up.js';
import { packageVersion } from './package-version.js';

/** Exit codes of `shic` (also in `shic --help`). */
export const EXIT_CODES = { ok: 0, error: 1, usage: 2 } as const;

/** The `shic` commander program; usage errors throw `CommanderError` (exitOverride) instead of exiting. */
export function createProgram(io: CliIo): Command {
  const program = new Command('shic')
    .description('Self-hosted inference control: spawn and attach local LLM servers, lease their endpoints.')
    .version(packageVersion(), '-V, --version', 'print the version of shic and exit')
    .option(
      '--state-dir <dir>',
      'daemon state directory (default $SHIC_STATE_DIR, else ~/.local/state/shic, where a shic up with its own stateDir leaves a pointer)',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', '\nExit codes: 0 ok, 1 error, 2 usage.');
  registerUpCommand(program, io);
  registerPsCommand(program, io);
  registerReloadCommand(program, io);
  registerRequestsCommand(program, io);
  registerUiCommand(program, io);
  registerEnsureCommand(program, io);
  registerLeaseCommands(program, io);
  registerInstanceCommands(program, io);
  registerEventsCommand(program, io);
  registerHealthCommand(program, io);
  registerConfigCommands(program, io);
  registerSpawnCommand(program, io);
  registerAttachCommand(program, io);
  registerLlamaServerCommands(program, io);
  registerTinyModelCommand(program, io);
  return program;
}
