import Table from 'cli-table3';
import type { RuntimeSnapshot } from '../../contracts/runtime-snapshot.js';
import { formatDuration } from './format-duration.js';

const LIVE = new Set(['starting', 'ready', 'degraded', 'stopping']);

function mib(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '-';
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

/**
 * The `shic ps` table: one row per instance.
 * @param resident measured resident memory per instance id (`GET /v1/memory`), shown as MEMORY.
 */
export function renderInstancesTable(
  instances: RuntimeSnapshot[],
  now = Date.now(),
  resident: ReadonlyMap<string, number | null> = new Map(),
): string {
  if (instances.length === 0) return 'No instances.';
  const table = new Table({
    head: [
      'ID',
      'DEPLOYMENT',
      'BACKEND',
      'STATE',
      'HEALTH',
      'PORT',
      'MEMORY',
      'LEASES',
      'UPTIME',
      'RESTARTS',
    ],
    style: { head: [], border: [] },
  });
  for (const i of instances) {
    const since = i.readyAt ?? i.startedAt;
    const uptime = LIVE.has(i.state) && since !== null ? formatDuration(now - since) : '-';
    const deployment = typeof i.metadata.deployment === 'string' ? i.metadata.deployment : '-';
    table.push([
      i.instanceId,
      deployment,
      i.backend,
      i.state,
      i.healthDetail ? `${i.health} (${i.healthDetail})` : i.health,
      i.port ?? '-',
      mib(resident.get(i.instanceId)),
      i.leaseCount,
      uptime,
      i.restarts,
    ]);
  }
  return table.toString();
}
