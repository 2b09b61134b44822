import { CommanderError } from 'commander';
import { KernelError } from '../errors/kernel-error.js';
import { type CliIo, processIo } from './cli-context.js';
import { createProgram, EXIT_CODES } from './create-program.js';

function describeError(error: unknown): string {
  if (KernelError.isInstance(error)) {
    const lines = [`error [${error.code}]: ${error.message}`];
    if (error.lastLogLines?.length) lines.push('last output:', ...error.lastLogLines.map((l) => `  ${l}`));
    return lines.join('\n');
  }
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * Runs `shic` with the given arguments (without `node` and the script) and returns the exit code:
 * 0 ok, 1 error (a kernel or daemon error, printed as `error [code]: message`), 2 usage.
 */
export async function runCli(args: string[], io: CliIo = processIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(args, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'];
      if (benign.includes(error.code) || error.exitCode === 0) return EXIT_CODES.ok;
      // The `(outputHelp)` path already printed; commander's own message went to stderr via configureOutput.
      if (error.code === 'commander.invalidArgument' && !error.message.startsWith('error:')) {
        io.stderr.write(`${error.message}\n`);
      }
      return EXIT_CODES.usage;
    }
    io.stderr.write(`${describeError(error)}\n`);
    // A config that cannot work is the user's input to fix, like a bad flag: nothing was started.
    return KernelError.isInstance(error) && error.code === 'invalid_config'
      ? EXIT_CODES.usage
      : EXIT_CODES.error;
  }
}
