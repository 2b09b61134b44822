import Table from 'cli-table3';
import type { RuntimeSnapshot } from '../../contracts/runtime-snapshot.js';
import { formatDuration } from './format-duration.js';

const LIVE = new Set(['starting', 'ready', 'degraded', 'stopping']);

function mib(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '-';
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

const SOURCE: Record<string, string> = {
  estimated: 'est',
  calibrated: 'measured',
  configured: 'config',
  none: '',
};

// What residency charges the instance: one figure for system memory alone, else per device; with its source.
function charged(memory: RuntimeSnapshot['memory']): string {
  if (!memory) return '-';
  const devices = Object.entries(memory.bytes).filter(([, bytes]) => bytes > 0);
  if (devices.length === 0) return memory.source === 'none' ? 'unaccounted' : '0 MiB';
  const figure =
    devices.length === 1 && devices[0]![0] === 'system'
      ? mib(devices[0]![1])
      : devices.map(([device, bytes]) => `${device} ${mib(bytes)}`).join(', ');
  return `${figure} ${SOURCE[memory.source] ?? memory.source}`.trim();
}

/**
 * The `shic ps` table: one row per instance. MEMORY is what residency charges the instance (`est`imated
 * before start, `measured` from the server's own report, or `config`ured); RSS is its process's resident set.
 * @param resident measured resident memory per instance id (`GET /v1/memory`), shown as RSS.
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
      'RSS',
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
      charged(i.memory),
      mib(resident.get(i.instanceId)),
      i.leaseCount,
      uptime,
      i.restarts,
    ]);
  }
  return table.toString();
}
