import { setTimeout as delay } from 'node:timers/promises';
import { isProcessAlive, listGroupMembers } from '../../process/proc-info.js';
import { descriptorRequestHeaders } from './check-endpoint-descriptor.js';
import type { ConformanceRun } from './conformance-run.js';
import { ConformanceViolation } from './conformance-violation.js';
import { findMarkedProcesses, type MarkedProcess } from './find-marked-processes.js';
import { requireReady } from './require-ready.js';

/** Extra time, beyond the plan's `stopTimeoutMs`, for killed processes to disappear on a loaded machine, in ms. */
const SETTLE_MS = 5_000;

interface Leftovers {
  pidAlive: boolean;
  groupMembers: number[];
  marked: MarkedProcess[];
}

function leftovers(pid: number, marker: string): Leftovers {
  return {
    pidAlive: isProcessAlive(pid),
    groupMembers: listGroupMembers(pid),
    marked: findMarkedProcesses(marker),
  };
}

const isClean = (l: Leftovers) => !l.pidAlive && l.groupMembers.length === 0 && l.marked.length === 0;

/**
 * Rule `stop-leaves-no-process` (spawned backends): after `kernel.stopInstance`, the instance is `stopped`,
 * its pid and process group are gone, and no process carrying the run's marker survives — including
 * descendants that moved to their own session, which the kernel cannot signal (found through `/proc` on
 * Linux by the `SHIC_CONFORMANCE_RUN` environment marker the kit adds to the spawned command).
 * @returns nothing; survivors are listed in the violation's `seen.survivors` so a test can kill them.
 * @throws ConformanceViolation listing every survivor's pid and command line.
 */
export async function checkStopLeavesNoProcess(run: ConformanceRun): Promise<void> {
  const rule = 'stop-leaves-no-process';
  const { snapshot, target } = requireReady(run, rule);
  const pid = snapshot.pid;
  if (pid === undefined) {
    throw new ConformanceViolation(
      rule,
      run.backend.id,
      'a spawned instance must report its pid in the snapshot',
      {
        snapshotPid: pid,
      },
    );
  }
  if (run.leaseRef) run.kernel.releaseLease(run.leaseRef);
  await run.kernel.stopInstance(snapshot.instanceId);
  const state = run.kernel.lookupInstance(snapshot.instanceId)?.state;
  const deadline = Date.now() + target.plan.stopTimeoutMs + SETTLE_MS;
  let left = leftovers(pid, run.marker);
  while (!isClean(left) && Date.now() < deadline) {
    await delay(50);
    left = leftovers(pid, run.marker);
  }
  if (!isClean(left)) {
    const survivors = [
      ...new Set([...(left.pidAlive ? [pid] : []), ...left.groupMembers, ...left.marked.map((m) => m.pid)]),
    ];
    throw new ConformanceViolation(
      rule,
      run.backend.id,
      `${survivors.length} process(es) outlived stopInstance (pid ${pid}${left.pidAlive ? ' still alive' : ' gone'}, ` +
        `${left.groupMembers.length} left in its process group, ${left.marked.length} carrying the run marker ` +
        'outside it): a spawned command must not leave descendants in another session or group',
      { survivors, marked: left.marked, groupMembers: left.groupMembers, state },
    );
  }
  if (state !== undefined && state !== 'stopped') {
    throw new ConformanceViolation(
      rule,
      run.backend.id,
      'after stopInstance the instance must be "stopped"',
      {
        state,
      },
    );
  }
}

/**
 * Rule `stop-leaves-daemon-alive` (attached backends): `kernel.stopInstance` and `kernel.close()` leave the
 * externally managed daemon running: its base URL still answers HTTP afterwards.
 * @throws ConformanceViolation when the daemon no longer answers.
 */
export async function checkStopLeavesDaemonAlive(run: ConformanceRun): Promise<void> {
  const rule = 'stop-leaves-daemon-alive';
  const { snapshot, descriptor } = requireReady(run, rule);
  if (run.leaseRef) run.kernel.releaseLease(run.leaseRef);
  await run.kernel.stopInstance(snapshot.instanceId);
  await run.kernel.close();
  const url = `${descriptor.baseUrl.replace(/\/+$/, '')}/models`;
  try {
    const response = await fetch(url, {
      headers: descriptorRequestHeaders(descriptor.headers),
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
  } catch (error) {
    throw new ConformanceViolation(
      rule,
      run.backend.id,
      `after stopInstance and kernel.close() the daemon no longer answers at ${descriptor.baseUrl} ` +
        `(${(error as Error).message}): an attached backend must never stop a daemon it does not own`,
      { baseUrl: descriptor.baseUrl, sourceRuntimeRef: descriptor.sourceRuntimeRef },
    );
  }
}
