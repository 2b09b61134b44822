// `npm run build` (also run by `prepare`, so `npm pack` and git installs ship code): a clean dist/ from tsc, plus
// the watchdog, which is plain JavaScript run as its own process, and the dashboard's static files.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
});
cpSync('src/process/watchdog-process.mjs', 'dist/src/process/watchdog-process.mjs');
// The dashboard's static files (served at /ui by the control API).
cpSync('src/dashboard/ui', 'dist/src/dashboard/ui', { recursive: true });
