import type { Logger } from 'pino';
import type { BackendRegistry } from '../backend/backend-registry.js';
import { type InstanceSpecInput, parseInstanceSpec } from '../contracts/instance-spec.js';
import { errorMessage } from '../errors/error-message.js';
import type { LeaseTable } from '../lease/lease-table.js';
import type { InstanceManager } from '../lifecycle/instance-manager.js';
import { validateStartupPlan } from '../plan/validate-startup-plan.js';
import { AdoptedProcess } from '../process/adopted-process.js';
import type { OrphanWatchdog } from '../process/orphan-watchdog.js';
import { readOwnerMarker } from '../process/owner-marker.js';
import { isProcessAlive, readProcessStartTime, sameStartTime } from '../process/proc-info.js';
import { terminateGroup } from '../process/process-group.js';
import type { ProcessRecords } from '../process/process-records.js';
import { joinPlanSecrets, type PlanSecretFiles } from '../store/plan-secrets.js';
import type { StateStore, StoredInstance } from '../store/state-store.js';
import type { KernelJournal } from './kernel-journal.js';

/** Why a recorded server was not adopted. */
export type AdoptionRefusal =
  /** The process is gone (it died while no daemon ran). */
  | 'gone'
  /** The pid now belongs to another process (different start time or owner marker): left alone. */
  | 'pid_reused'
  /** Adoption is off: the server was stopped, as without a store. */
  | 'adoption_off'
  /** Its deployment is no longer configured. */
  | 'not_configured'
  /** Its deployment changed (another instance key) or its recorded plan no longer validates. */
  | 'config_changed'
  /** It did not answer its readiness probe in time. */
  | 'unhealthy';

/** What one kernel start did with the servers its predecessor recorded (`kernel.adoption()`). */
export interface AdoptionReport {
  adopted: {
    instanceId: string;
    deployment: string | null;
    pid: number;
    port: number | null;
    leases: number;
  }[];
  /** Servers found running but not adopted: stopped (`pid_reused`, never signalled, is in `left`). */
  stopped: {
    instanceId: string;
    deployment: string | null;
    pid: number;
    reason: AdoptionRefusal;
    detail?: string;
  }[];
  /** Records whose process was gone or is now someone else's: dropped, nothing signalled. */
  left: {
    instanceId: string;
    deployment: string | null;
    pid: number | null;
    reason: 'gone' | 'pid_reused';
  }[];
  /** The predecessor's watchdog, killed so its grace could not run out mid-adoption; null when none was alive. */
  watchdogKilled: number | null;
}

/** Meta key of the running daemon's watchdog (`{ pid, startTime }`). */
export const WATCHDOG_META = 'watchdog';

/** What adoption needs from the kernel. */
export interface AdoptionContext {
  store: StateStore;
  registry: BackendRegistry;
  manager: InstanceManager;
  leases: LeaseTable;
  journal: KernelJournal;
  secrets: PlanSecretFiles;
  records: ProcessRecords;
  watchdog: OrphanWatchdog | undefined;
  logger: Logger;
  now: () => number;
  /** The spec a recorded instance should run now (its deployment's); undefined = not configured any more. */
  resolveSpec: ((stored: StoredInstance) => InstanceSpecInput | undefined) | undefined;
  readyTimeoutMs: number;
  /** Stop grace for servers that are not adopted, ms. */
  stopTimeoutMs: number;
}

// The process is the one recorded when its start time and the owner marker in its environment both match.
function identify(row: StoredInstance): 'ours' | 'gone' | 'pid_reused' {
  if (row.pid === null || row.processStart === null) return 'gone';
  const started = readProcessStartTime(row.pid);
  if (started === null || !isProcessAlive(row.pid)) return 'gone';
  if (!sameStartTime(started, row.processStart)) return 'pid_reused';
  return readOwnerMarker(row.pid) === row.ownerMarker ? 'ours' : 'pid_reused';
}

function killPredecessorWatchdog(store: StateStore): number | null {
  const raw = store.getMeta(WATCHDOG_META);
  if (!raw) return null;
  try {
    const { pid, startTime } = JSON.parse(raw) as { pid: number; startTime: number };
    const started = readProcessStartTime(pid);
    if (started === null || !sameStartTime(started, startTime)) return null;
    process.kill(pid, 'SIGKILL');
    return pid;
  } catch {
    return null;
  }
}

/**
 * Claims the servers a previous kernel on this state directory left running (guides/durable-state.md): its watchdog
 * is killed first (so its grace cannot expire halfway), then each recorded server whose pid, start time and owner
 * marker match, whose deployment still has the same instance key and whose probe answers is re-registered with the
 * same id, port and key, and its unexpired leases come back with their remaining TTL. What fails is stopped;
 * what is gone or now someone else's is only forgotten.
 */
export async function adoptInstances(context: AdoptionContext): Promise<AdoptionReport> {
  const { store, logger } = context;
  const report: AdoptionReport = { adopted: [], stopped: [], left: [], watchdogKilled: null };
  const rows = store.listInstances();
  const leases = store.listLeases();
  report.watchdogKilled = killPredecessorWatchdog(store);
  const forget = (row: StoredInstance) => {
    store.removeInstance(row.instanceId);
    context.secrets.remove(row.instanceId);
  };
  for (const row of rows) {
    const identity = identify(row);
    if (identity !== 'ours') {
      report.left.push({
        instanceId: row.instanceId,
        deployment: row.deployment,
        pid: row.pid,
        reason: identity,
      });
      forget(row);
      continue;
    }
    const pid = row.pid!;
    const stop = async (reason: AdoptionRefusal, detail?: string) => {
      logger.warn(
        { instanceId: row.instanceId, pid, reason, detail },
        'not adopting a recorded server; stopping it',
      );
      await terminateGroup(pid, row.processStart!, context.stopTimeoutMs);
      context.records.remove(pid);
      report.stopped.push({
        instanceId: row.instanceId,
        deployment: row.deployment,
        pid,
        reason,
        ...(detail ? { detail } : {}),
      });
      forget(row);
    };
    if (!context.resolveSpec) {
      await stop('adoption_off');
      continue;
    }
    const specInput = context.resolveSpec(row);
    if (specInput === undefined) {
      await stop('not_configured');
      continue;
    }
    let spec: ReturnType<typeof parseInstanceSpec>;
    let plan: ReturnType<typeof validateStartupPlan>;
    try {
      spec = parseInstanceSpec(specInput);
      const { backend, manifest } = context.registry.get(spec.backend);
      const secrets = context.secrets.read(row.instanceId) ?? { env: {}, headers: {}, secretHeaders: [] };
      plan = validateStartupPlan(manifest, spec, joinPlanSecrets(row.plan, secrets));
      const key = backend.instanceKey?.(spec) ?? plan.instanceKey;
      if (key !== row.instanceKey || plan.instanceKey !== row.instanceKey) {
        await stop('config_changed', `instance key is now ${key}`);
        continue;
      }
    } catch (error) {
      await stop('config_changed', errorMessage(error));
      continue;
    }
    const adoptedAt = context.now();
    const mark = { ownerMarker: row.ownerMarker!, adoptedAt, adoptions: row.adoptions + 1 };
    context.journal.markAdopted(row.instanceId, mark);
    try {
      const instance = await context.manager.adopt(spec, plan, {
        instanceId: row.instanceId,
        ownerMarker: row.ownerMarker!,
        memory: row.memory ? { bytes: row.memory, source: 'calibrated' } : { bytes: {}, source: 'none' },
        readyTimeoutMs: context.readyTimeoutMs,
        process: async (ring) => {
          const proc = new AdoptedProcess({
            pid,
            startedAt: row.processStart!,
            command: plan.transport?.command ?? '',
            args: plan.transport?.args ?? [],
            instanceId: row.instanceId,
            outputFile: row.logFile ?? undefined,
            logRing: ring,
            logger,
            ...(context.watchdog ? { watchdog: context.watchdog } : {}),
            records: context.records,
          });
          await proc.register();
          return proc;
        },
      });
      let restored = 0;
      for (const lease of leases) {
        if (lease.instanceId !== row.instanceId) continue;
        const { backend, ...plain } = lease;
        if (context.leases.restore(plain, backend)) restored += 1;
        else store.removeLease(lease.leaseRef);
      }
      report.adopted.push({
        instanceId: instance.id,
        deployment: row.deployment,
        pid,
        port: plan.port ?? null,
        leases: restored,
      });
      logger.info(
        { instanceId: instance.id, pid, port: plan.port, leases: restored },
        'adopted a running server',
      );
    } catch (error) {
      // The start attempt stopped the process when its probe failed; make sure, and report it.
      report.stopped.push({
        instanceId: row.instanceId,
        deployment: row.deployment,
        pid,
        reason: 'unhealthy',
        detail: errorMessage(error),
      });
      await terminateGroup(pid, row.processStart!, context.stopTimeoutMs);
      forget(row);
    }
  }
  // Leases of instances that were not adopted go with them.
  for (const lease of leases) {
    if (!report.adopted.some((a) => a.instanceId === lease.instanceId)) store.removeLease(lease.leaseRef);
  }
  return report;
}
