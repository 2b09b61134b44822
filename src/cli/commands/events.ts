import type { Command } from 'commander';
import { type CliIo, onStopSignal, println, withClient } from '../cli-context.js';

function describe(event: Record<string, unknown>): string {
  const { type, at, instanceId, leaseRef, backend, instanceKey: _k, ...rest } = event;
  const time = new Date(Number(at)).toISOString().slice(11, 23);
  const subject = [instanceId, leaseRef].filter(Boolean).join(' ');
  const fields = Object.entries(rest)
    .filter(([k]) => k !== 'ownerRef' || !leaseRef)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return `${time} ${String(type).padEnd(18)} ${String(backend ?? '')} ${subject} ${fields}`.trimEnd();
}

/** `shic events`: the daemon's telemetry events, live. */
export function registerEventsCommand(program: Command, io: CliIo): void {
  program
    .command('events')
    .description('stream telemetry events until Ctrl-C, or until the daemon stops (after its last events)')
    .option(
      '--types <list>',
      'comma-separated event names or prefixes ending in "." (e.g. instance.,lease.expired)',
    )
    .option('--json', 'one JSON object per line')
    .action(async (opts: { types?: string; json?: boolean }, command: Command) => {
      const stop = onStopSignal();
      const query = opts.types ? `?types=${encodeURIComponent(opts.types)}` : '';
      try {
        await withClient(command, io, async (c) => {
          for await (const { data } of c.stream(`/v1/events${query}`, stop.signal)) {
            println(io, opts.json ? JSON.stringify(data) : describe(data as Record<string, unknown>));
          }
          if (!stop.signal.aborted) io.stderr.write('event stream ended: the daemon stopped\n');
        });
      } finally {
        stop.dispose();
      }
    });
}
