import type { ReloadReport } from '../../control/reload-report.js';

/** The diff `shic reload` (and SIGHUP) prints: one line per deployment that changed, then what needs a restart. */
export function describeReload(report: ReloadReport): string {
  const retiring = (name: string) => report.retired.filter((r) => r.deployment === name);
  const how = (name: string) => {
    const instances = retiring(name);
    if (instances.length === 0) return 'not running';
    if (instances.some((r) => r.now)) return 'stopped now';
    const leased = instances.reduce((n, r) => n + r.leases, 0);
    return leased > 0 ? `stops when its ${leased} lease(s) end` : 'stopped (idle)';
  };
  const lines = [`reloaded ${report.file ?? 'the config'}`];
  for (const name of report.added) lines.push(`  + ${name} (new)`);
  for (const name of report.changed)
    lines.push(`  ~ ${name} (changed: ${how(name)}, then starts from the new spec)`);
  for (const name of report.removed) lines.push(`  - ${name} (removed: ${how(name)})`);
  lines.push(
    `  = ${report.unchanged.length} unchanged${report.unchanged.length ? `: ${report.unchanged.join(', ')}` : ''}`,
  );
  for (const section of report.restartRequired)
    lines.push(`  ! ${section} changed: applies at the next shic up`);
  return lines.join('\n');
}
