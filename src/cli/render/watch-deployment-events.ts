import type { ControlKernel } from '../../control/control-kernel.js';
import type { KernelEvent } from '../../telemetry/kernel-events.js';
import type { DeploymentProgress } from './deployment-progress.js';
import { describeMemoryWait, mibOf } from './describe-memory-wait.js';
import { formatDuration } from './format-duration.js';

// Events carry instance ids; the deployment name is in the instance's metadata (set by DeploymentCatalog).
function deploymentOf(
  kernel: ControlKernel,
  cache: Map<string, string | null>,
  instanceId: string,
): string | null {
  if (!cache.has(instanceId)) {
    const name = kernel.lookupInstance(instanceId)?.metadata.deployment;
    cache.set(instanceId, typeof name === 'string' ? name : null);
  }
  return cache.get(instanceId) ?? null;
}

/**
 * Feeds kernel lifecycle events (starting, spawned, progress, ready, failed) and residency's decisions (waiting
 * for memory, evictions, drains) into a progress display.
 */
export function watchDeploymentEvents(kernel: ControlKernel, progress: DeploymentProgress): () => void {
  const names = new Map<string, string | null>();
  return kernel.on('*', (event: KernelEvent) => {
    if (!event.type.startsWith('instance.') && !event.type.startsWith('residency.')) return;
    const name = deploymentOf(kernel, names, (event as { instanceId: string }).instanceId);
    if (!name) return;
    const holder = (instanceId: string) => deploymentOf(kernel, names, instanceId) ?? instanceId;
    switch (event.type) {
      case 'residency.queued':
        progress.update(name, {
          phase: 'waiting for memory',
          detail: describeMemoryWait(event, holder),
        });
        break;
      case 'residency.evicting':
        progress.update(name, {
          phase: 'evicted',
          detail: `idle ${formatDuration(event.idleMs)}, ${mibOf(event.bytes)} freed for ${holder(event.forInstanceId)}`,
          done: 'ok',
        });
        break;
      case 'residency.draining':
        progress.update(name, {
          phase: 'draining',
          detail: `no new requests: ${holder(event.forInstanceId)} has waited ${formatDuration(event.waitedMs)} for its memory`,
        });
        break;
      case 'residency.admitted':
        if (event.waitedMs > 0 || event.evicted.length > 0) {
          progress.update(name, {
            phase: 'admitted',
            detail: `${mibOf(event.bytes)} (${event.source}) after ${formatDuration(event.waitedMs)}`,
          });
        }
        break;
      case 'instance.starting':
        progress.update(name, {
          phase: 'starting',
          detail: event.attempt > 1 ? `attempt ${event.attempt}` : '',
        });
        break;
      case 'instance.spawned':
        progress.update(name, {
          phase: 'spawning',
          detail: `pid ${event.pid}${event.port ? `, port ${event.port}` : ''}`,
        });
        break;
      case 'instance.progress':
        progress.update(name, {
          phase: event.phase,
          detail: event.message,
          ...(event.percent === undefined ? {} : { percent: event.percent }),
        });
        break;
      case 'instance.ready':
        progress.update(name, {
          phase: 'ready',
          detail: `in ${formatDuration(event.readyMs)}${event.port ? ` on port ${event.port}` : ''}`,
          done: 'ok',
        });
        break;
      case 'instance.restarting':
        progress.update(name, {
          phase: 'restarting',
          detail: `restart ${event.restart} in ${formatDuration(event.delayMs)}`,
        });
        break;
      case 'instance.failed':
        // The code only: `shic up` prints the full message once, in its `failed <deployment>` line.
        progress.update(name, { phase: 'failed', detail: event.error.code, done: 'failed' });
        break;
      default:
        break;
    }
  });
}
