import type { Command } from 'commander';
import type { RuntimeSnapshot } from '../../contracts/runtime-snapshot.js';
import { type CliIo, printJson, println, withClient } from '../cli-context.js';
import { renderInstancesTable } from '../render/instances-table.js';

/** `shic ps`: the instances of the running daemon. */
export function registerPsCommand(program: Command, io: CliIo): void {
  program
    .command('ps')
    .description('list instances: id, deployment, backend, state, health, port, leases, uptime, restarts')
    .option('--json', 'print the runtime snapshots as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { instances } = await withClient(command, io, (c) =>
        c.call<{ instances: RuntimeSnapshot[] }>('GET', '/v1/instances'),
      );
      if (opts.json) printJson(io, instances);
      else println(io, renderInstancesTable(instances));
    });
}
