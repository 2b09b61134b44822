// Run by orphan-watchdog.test.ts: a kernel that starts its watchdog and then has nothing left to do.
// It must exit on its own (the watchdog's handles are unref'd); it prints the watchdog's pid.
import { OrphanWatchdog } from '../../src/process/orphan-watchdog.js';

const watchdog = new OrphanWatchdog();
await watchdog.start();
process.stdout.write(`${watchdog.pid}\n`);
