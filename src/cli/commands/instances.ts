import type { Command } from 'commander';
import type { RuntimeSnapshot } from '../../contracts/runtime-snapshot.js';
import { type CliIo, onStopSignal, printJson, println, withClient } from '../cli-context.js';
import { parsePositiveInt } from '../parse-options.js';

/** `shic stop <id>` and `shic logs <id> [-f]`. */
export function registerInstanceCommands(program: Command, io: CliIo): void {
  program
    .command('stop')
    .description('stop an instance (an attached daemon is only forgotten, never stopped)')
    .argument('<id>', 'instance id (see `shic ps`)')
    .option('--json', 'print the final snapshot as JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const { instance } = await withClient(command, io, (c) =>
        c.call<{ instance: RuntimeSnapshot }>('POST', `/v1/instances/${encodeURIComponent(id)}/stop`, {}),
      );
      if (opts.json) printJson(io, instance);
      else println(io, `stopped ${instance.instanceId} (${instance.state})`);
    });
  program
    .command('logs')
    .description('print the last output lines of an instance; -f keeps following')
    .argument('<id>', 'instance id (see `shic ps`)')
    .option('-n, --lines <n>', 'lines of tail', parsePositiveInt, 100)
    .option('-f, --follow', 'keep printing new lines until Ctrl-C or the instance stops')
    .option('--json', 'print JSON (one object per line when following)')
    .action(
      async (id: string, opts: { lines: number; follow?: boolean; json?: boolean }, command: Command) => {
        const path = `/v1/instances/${encodeURIComponent(id)}/logs?n=${opts.lines}`;
        if (!opts.follow) {
          const result = await withClient(command, io, (c) => c.call<{ lines: string[] }>('GET', path));
          if (opts.json) printJson(io, result);
          else for (const line of result.lines) println(io, line);
          return;
        }
        const stop = onStopSignal();
        try {
          await withClient(command, io, async (c) => {
            for await (const { data } of c.stream(`${path}&follow=true`, stop.signal)) {
              const entry = data as { line: string };
              println(io, opts.json ? JSON.stringify(entry) : entry.line);
            }
          });
        } finally {
          stop.dispose();
        }
      },
    );
}
