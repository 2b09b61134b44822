import type { Command } from 'commander';
import type { ReloadReport } from '../../control/reload-report.js';
import { type CliIo, printJson, println, withClient } from '../cli-context.js';
import { describeReload } from '../render/describe-reload.js';

/** `shic reload [--now]`: the running daemon re-reads its shic.yaml. */
export function registerReloadCommand(program: Command, io: CliIo): void {
  program
    .command('reload')
    .description(
      're-read the daemon’s shic.yaml: new deployments appear, removed ones stop when their leases end, changed ones restart when idle; unchanged ones are not touched (SIGHUP does the same)',
    )
    .option('--now', 'stop removed and changed deployments at once, revoking their leases')
    .option('--json', 'print the diff as JSON')
    .action(async (opts: { now?: boolean; json?: boolean }, command: Command) => {
      const report = await withClient(command, io, (client) =>
        client.call<ReloadReport>('POST', '/v1/reload', { now: opts.now === true }),
      );
      if (opts.json) printJson(io, report);
      else println(io, describeReload(report));
    });
}
