import type { Command } from 'commander';
import { execa } from 'execa';
import { type CliIo, printJson, println, withClient } from '../cli-context.js';

/** `shic ui`: a one-time login link for the dashboard of the running daemon. */
export function registerUiCommand(program: Command, io: CliIo): void {
  program
    .command('ui')
    .description('print a one-time login link for the dashboard (valid 2 minutes, single use)')
    .option('--open', 'also open it in the default browser (xdg-open / open)')
    .option('--json', 'print { url, expiresAt } as JSON')
    .action(async (opts: { open?: boolean; json?: boolean }, command: Command) => {
      const { url, expiresAt } = await withClient(command, io, async (client) => {
        const link = await client.call<{ path: string; expiresAt: number }>('POST', '/v1/ui/login-links', {});
        return { url: `${client.url}${link.path}`, expiresAt: link.expiresAt };
      });
      if (opts.json) printJson(io, { url, expiresAt });
      else {
        println(io, url);
        io.stderr.write('One-time link: it logs one browser in and expires in 2 minutes. Keep it private.\n');
      }
      if (opts.open) {
        const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
        const opened = await execa(opener, [url], { reject: false, stdio: 'ignore', timeout: 10_000 });
        if (opened.exitCode !== 0) io.stderr.write(`Could not run ${opener}; open the link yourself.\n`);
      }
    });
}
