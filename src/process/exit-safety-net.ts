import { groupMatches, signalGroup } from './process-group.js';

const liveGroups = new Map<number, number>();

// 'exit' handlers must be synchronous: SIGKILL is the only signal that cannot be ignored and needs no wait.
function killAllOnExit(): void {
  for (const [pgid, startTime] of liveGroups) {
    if (groupMatches(pgid, startTime)) signalGroup(pgid, 'SIGKILL');
  }
  liveGroups.clear();
}

/**
 * Registers a spawned process group to be SIGKILLed synchronously if the kernel process exits normally
 * (`process.exit`, end of the event loop) while it still runs. The `exit` listener exists only while at
 * least one group is registered, so an idle kernel leaves no listener behind.
 */
export function protectGroupOnExit(pgid: number, startTime: number): void {
  if (liveGroups.size === 0) process.on('exit', killAllOnExit);
  liveGroups.set(pgid, startTime);
}

/** Unregisters a group once it is gone (or handed over). */
export function releaseGroupOnExit(pgid: number): void {
  if (!liveGroups.delete(pgid)) return;
  if (liveGroups.size === 0) process.off('exit', killAllOnExit);
}

/** Groups currently protected (for diagnostics and tests). */
export function protectedGroupCount(): number {
  return liveGroups.size;
}
