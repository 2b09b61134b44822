import type { Command } from 'commander';
import { type CliIo, printJson, println, withClient } from '../cli-context.js';
import { parseDurationMs } from '../parse-options.js';
import { formatDuration } from '../render/format-duration.js';

/** `shic renew <leaseRef>` and `shic release <leaseRef>`. */
export function registerLeaseCommands(program: Command, io: CliIo): void {
  program
    .command('renew')
    .description('extend a lease')
    .argument('<leaseRef>')
    .option('--ttl <duration>', 'new TTL (ms, or 30s / 5m); default the lease’s own', parseDurationMs)
    .option('--json', 'print the lease as JSON')
    .action(async (leaseRef: string, opts: { ttl?: number; json?: boolean }, command: Command) => {
      const body = opts.ttl === undefined ? {} : { ttlMs: opts.ttl };
      const { lease } = await withClient(command, io, (c) =>
        c.call<{ lease: { leaseRef: string; expiresAt: number } }>(
          'POST',
          `/v1/leases/${encodeURIComponent(leaseRef)}/renew`,
          body,
        ),
      );
      if (opts.json) printJson(io, lease);
      else
        println(io, `renewed ${lease.leaseRef}, expires in ${formatDuration(lease.expiresAt - Date.now())}`);
    });
  program
    .command('release')
    .description('release a lease (releasing an unknown lease succeeds)')
    .argument('<leaseRef>')
    .option('--json', 'print the result as JSON')
    .action(async (leaseRef: string, opts: { json?: boolean }, command: Command) => {
      const result = await withClient(command, io, (c) =>
        c.call('DELETE', `/v1/leases/${encodeURIComponent(leaseRef)}`),
      );
      if (opts.json) printJson(io, result);
      else println(io, `released ${leaseRef}`);
    });
}
