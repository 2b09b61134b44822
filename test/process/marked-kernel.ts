// Run by orphan-watchdog.test.ts: a kernel that starts its watchdog, prints `{ marker, watchdogPid }` as one
// JSON line and idles until it is killed. The test starts processes carrying (or not) that owner marker.
import { OrphanWatchdog } from '../../src/process/orphan-watchdog.js';

const watchdog = new OrphanWatchdog({ graceMs: 300 });
await watchdog.start();
process.stdout.write(`${JSON.stringify({ marker: watchdog.ownerMarker, watchdogPid: watchdog.pid })}\n`);
setInterval(() => {}, 60_000);
