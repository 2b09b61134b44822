import type { Command } from 'commander';
import { type CliIo, printJson, println, withClient } from '../cli-context.js';
import { parseDurationMs } from '../parse-options.js';
import { formatDuration } from '../render/format-duration.js';

interface EnsureResponse {
  endpoint: {
    baseUrl: string;
    modelIdentity: string | null;
    headers: Record<string, string>;
    healthRef: string;
  };
  lease: { leaseRef: string; ownerRef: string; expiresAt: number; ttlMs: number };
  compatibility: { reason: string; warnings: string[] };
}

/** `shic ensure <deployment>`: lease an endpoint of a deployment (starting it if needed). */
export function registerEnsureCommand(program: Command, io: CliIo): void {
  program
    .command('ensure')
    .description('lease an endpoint of a deployment, starting it if needed; prints the descriptor')
    .argument('<deployment>', 'deployment name from the config')
    .option(
      '--ttl <duration>',
      'lease TTL (ms, or 30s / 5m); default the deployment’s lease.ttlMs',
      parseDurationMs,
    )
    .option('--owner <ref>', 'lease owner reference', 'shic-cli')
    .option('--exclusive', 'ask for an exclusive lease')
    .option(
      '--json',
      'print { endpoint, compatibility, lease } as JSON, including the endpoint’s auth headers',
    )
    .action(
      async (
        deployment: string,
        opts: { ttl?: number; owner: string; exclusive?: boolean; json?: boolean },
        command: Command,
      ) => {
        const body = {
          deployment,
          ownerRef: opts.owner,
          ...(opts.ttl === undefined ? {} : { ttlMs: opts.ttl }),
          ...(opts.exclusive ? { exclusive: true } : {}),
        };
        const result = await withClient(command, io, (c) =>
          c.call<EnsureResponse>('POST', '/v1/endpoints/ensure', body),
        );
        if (opts.json) return printJson(io, result);
        const { endpoint, lease } = result;
        println(io, `endpoint  ${endpoint.baseUrl}`);
        println(io, `model     ${endpoint.modelIdentity ?? '-'}`);
        println(io, `instance  ${endpoint.healthRef}`);
        println(
          io,
          `lease     ${lease.leaseRef} (owner ${lease.ownerRef}, expires in ${formatDuration(lease.expiresAt - Date.now())})`,
        );
        const headerNames = Object.keys(endpoint.headers);
        // Header values (auth) are shown only with --json, so a terminal or scrollback never holds them.
        if (headerNames.length > 0) println(io, `headers   ${headerNames.join(', ')} (values with --json)`);
      },
    );
}
