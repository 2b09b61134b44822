import type { Command } from 'commander';
import type { RuntimeSnapshot } from '../../contracts/runtime-snapshot.js';
import { type CliIo, printJson, println, withClient } from '../cli-context.js';
import { formatDuration } from '../render/format-duration.js';

/** `shic health`: is the daemon up, and how is each instance. */
export function registerHealthCommand(program: Command, io: CliIo): void {
  program
    .command('health')
    .description('daemon liveness and the health of each instance; exit 1 when any instance is not healthy')
    .option('--json', 'print { daemon, instances } as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { daemon, instances } = await withClient(command, io, async (c) => ({
        daemon: await c.call<{ status: string; pid: number; uptimeMs: number }>('GET', '/healthz'),
        instances: (await c.call<{ instances: RuntimeSnapshot[] }>('GET', '/v1/instances')).instances,
      }));
      const unhealthy = instances.filter((i) => i.state !== 'stopped' && i.health !== 'healthy');
      if (opts.json) {
        printJson(io, {
          daemon,
          instances: instances.map((i) => ({
            instanceId: i.instanceId,
            state: i.state,
            health: i.health,
            healthDetail: i.healthDetail,
          })),
        });
      } else {
        println(io, `daemon ${daemon.status} (pid ${daemon.pid}, up ${formatDuration(daemon.uptimeMs)})`);
        for (const i of instances) {
          println(
            io,
            `${i.instanceId} ${i.state} ${i.health}${i.healthDetail ? ` (${i.healthDetail})` : ''}`,
          );
        }
      }
      if (unhealthy.length > 0) process.exitCode = 1;
    });
}
