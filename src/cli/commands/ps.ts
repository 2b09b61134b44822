import type { Command } from 'commander';
import type { RuntimeSnapshot } from '../../contracts/runtime-snapshot.js';
import { type CliIo, printJson, println, withClient } from '../cli-context.js';
import { renderInstancesTable } from '../render/instances-table.js';

/** `shic ps`: the instances of the running daemon. */
export function registerPsCommand(program: Command, io: CliIo): void {
  program
    .command('ps')
    .description(
      'list instances: id, deployment, backend, state, health, port, memory charged (estimated, measured or configured), resident memory, leases, uptime, restarts',
    )
    .option('--json', 'print the runtime snapshots as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { instances, memory } = await withClient(command, io, async (c) => ({
        ...(await c.call<{ instances: RuntimeSnapshot[] }>('GET', '/v1/instances')),
        memory: opts.json
          ? undefined
          : await c.call<{ instances: Array<{ instanceId: string; residentBytes: number | null }> }>(
              'GET',
              '/v1/memory',
            ),
      }));
      if (opts.json) printJson(io, instances);
      else {
        const resident = new Map(memory?.instances.map((m) => [m.instanceId, m.residentBytes]));
        println(io, renderInstancesTable(instances, Date.now(), resident));
      }
    });
}
