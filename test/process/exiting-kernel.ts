// Run by exit-safety-net.test.ts: a kernel without watchdog that spawns a stand-in server (with a
// grandchild), prints their pids and calls process.exit() — only the exit safety net can stop them.
import { fileURLToPath } from 'node:url';
import { spawnProcess } from '../../src/process/spawn-process.js';

const standIn = fileURLToPath(new URL('../fixtures/stand-in-server.mjs', import.meta.url));
const proc = await spawnProcess({
  command: process.execPath,
  args: [standIn, '--port', '0', '--fork-grandchild'],
});
const grandchild = await new Promise<number>((resolve) => {
  const off = proc.logRing.onLine(({ line }) => {
    if (line.startsWith('grandchild pid=')) {
      off();
      resolve(Number(line.slice('grandchild pid='.length)));
    }
  });
});
process.stdout.write(`${JSON.stringify({ pid: proc.pid, grandchild })}\n`);
process.exit(0);
