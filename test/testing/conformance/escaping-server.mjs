#!/usr/bin/env node
// A broken server for the conformance kit's tests: before serving, it starts a grandchild in a NEW session
// and process group (`detached: true` = setsid), which the kernel's group kill cannot reach, then runs the
// generic stand-in server (test/fixtures/stand-in-server.mjs) with the same flags.
//   --escapee-marker M   put M in the grandchild's argv, so the test can find and kill it
import { spawn } from 'node:child_process';

const at = process.argv.indexOf('--escapee-marker');
const marker = at === -1 ? 'conformance-escapee' : process.argv[at + 1];
const escapee = spawn(
  process.execPath,
  ['-e', 'setInterval(() => {}, 60_000)', 'conformance-escapee', marker],
  {
    detached: true,
    stdio: 'ignore',
  },
);
escapee.unref();
process.stdout.write(`escapee pid=${escapee.pid}\n`);
await import('../../fixtures/stand-in-server.mjs');
