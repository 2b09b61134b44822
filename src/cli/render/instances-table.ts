import Table from 'cli-table3';
import type { RuntimeSnapshot } from '../../contracts/runtime-snapshot.js';
import { formatDuration } from './format-duration.js';

const LIVE = new Set(['starting', 'ready', 'degraded', 'stopping']);

/** The `shic ps` table: one row per instance. */
export function renderInstancesTable(instances: RuntimeSnapshot[], now = Date.now()): string {
  if (instances.length === 0) return 'No instances.';
  const table = new Table({
    head: ['ID', 'DEPLOYMENT', 'BACKEND', 'STATE', 'HEALTH', 'PORT', 'LEASES', 'UPTIME', 'RESTARTS'],
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
      i.leaseCount,
      uptime,
      i.restarts,
    ]);
  }
  return table.toString();
}
