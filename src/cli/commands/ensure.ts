import type { Command } from 'commander';
import type { ControlClient } from '../../control/control-client.js';
import type { KernelEvent } from '../../telemetry/kernel-events.js';
import { type CliIo, printJson, println, withClient } from '../cli-context.js';
import { parseDurationMs } from '../parse-options.js';
import { describeEnsureProgress } from '../render/describe-ensure-progress.js';
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

// Follows the daemon's events while an ensure waits and prints the ones about this deployment's instances.
function watchProgress(client: ControlClient, deployment: string, io: CliIo): { stop(): Promise<void> } {
  const stop = new AbortController();
  const names = new Map<string, string>();
  const nameOf = (id: string) => names.get(id) ?? id;
  const learn = async (id: string) => {
    if (names.has(id)) return;
    const answer = await client
      .call<{ instance: { metadata: { deployment?: unknown } } }>(
        'GET',
        `/v1/instances/${encodeURIComponent(id)}`,
      )
      .catch(() => undefined);
    const name = answer?.instance.metadata.deployment;
    names.set(id, typeof name === 'string' ? name : id);
  };
  const done = (async () => {
    try {
      for await (const { data } of client.stream('/v1/events?types=residency.,instance.', stop.signal)) {
        const event = data as KernelEvent;
        await learn(event.instanceId);
        if (names.get(event.instanceId) !== deployment) continue;
        if (event.type === 'residency.queued') for (const h of event.blocking) await learn(h.instanceId);
        if (event.type === 'residency.admitted') for (const id of event.evicted) await learn(id);
        const line = describeEnsureProgress(event, nameOf);
        if (line) io.stderr.write(`[${deployment}] ${line}\n`);
      }
    } catch {
      // Progress is a courtesy: the ensure's own answer says how it ended.
    }
  })();
  return {
    async stop() {
      stop.abort();
      await done;
    },
  };
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
        const result = await withClient(command, io, async (c) => {
          // At a terminal, what the wait is about (loading, waiting for memory) goes to stderr meanwhile.
          const watch = io.stderr.isTTY ? watchProgress(c, deployment, io) : undefined;
          try {
            return await c.call<EnsureResponse>('POST', '/v1/endpoints/ensure', body);
          } finally {
            await watch?.stop();
          }
        });
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
