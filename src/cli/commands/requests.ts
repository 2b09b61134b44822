import { type Command, InvalidArgumentError } from 'commander';
import type { RequestRecord } from '../../gateway/gateway-events.js';
import { type CliIo, printJson, println, withClient } from '../cli-context.js';
import { parseDurationMs } from '../parse-options.js';
import { renderRequestsTable } from '../render/requests-table.js';

const OUTCOMES = ['completed', 'failed', 'aborted'];

/** `shic requests`: recent requests the daemon's gateway served. */
export function registerRequestsCommand(program: Command, io: CliIo): void {
  program
    .command('requests')
    .description('list recent gateway requests, newest first: model, outcome, wait, TTFT, tokens')
    .option('--deployment <name>', 'only requests routed to this deployment')
    .option(
      '--status <outcome>',
      `only requests with this outcome: ${OUTCOMES.join('|')}`,
      (value: string) => {
        if (!OUTCOMES.includes(value))
          throw new InvalidArgumentError(`expected one of ${OUTCOMES.join(', ')}, got "${value}".`);
        return value;
      },
    )
    .option(
      '--since <duration>',
      'only requests from the last duration (ms, or 30s / 5m / 1h)',
      parseDurationMs,
    )
    .option('--limit <n>', 'at most this many (default 100)', (value: string) => {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n <= 0)
        throw new InvalidArgumentError(`expected a positive integer, got "${value}".`);
      return n;
    })
    .option('--json', 'print the request records as JSON')
    .action(
      async (
        opts: { deployment?: string; status?: string; since?: number; limit?: number; json?: boolean },
        command: Command,
      ) => {
        const query = new URLSearchParams();
        if (opts.deployment) query.set('deployment', opts.deployment);
        if (opts.status) query.set('outcome', opts.status);
        if (opts.since !== undefined) query.set('since', String(Date.now() - opts.since));
        if (opts.limit !== undefined) query.set('limit', String(opts.limit));
        const { requests } = await withClient(command, io, (c) =>
          c.call<{ requests: RequestRecord[] }>('GET', `/v1/requests?${query}`),
        );
        if (opts.json) printJson(io, requests);
        else println(io, renderRequestsTable(requests));
      },
    );
}
