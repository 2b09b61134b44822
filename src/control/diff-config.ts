import type { ShicConfig } from '../config/shic-config.js';
import { secretDigest } from '../http/bearer-auth.js';
import { Secret } from '../secret/secret.js';

/** What a reload found between the running config and the file (guides/cli.md, `shic reload`). */
export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
  /** Top-level sections that changed but apply only at the next `shic up` (control, gateway, resources, …). */
  restartRequired: string[];
}

// JSON with sorted keys, where a Secret counts by a digest of its value (its JSON form is always "[redacted]",
// so two different keys would otherwise compare equal, and the value itself must never be printed).
function canonical(value: unknown): string {
  if (Secret.isInstance(value))
    return JSON.stringify(`secret:${secretDigest(String(value.expose())).toString('hex')}`);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Deployments added, removed, changed (any field) and unchanged, and the other sections that changed. */
export function diffConfig(running: ShicConfig, next: ShicConfig): ConfigDiff {
  const before = running.deployments;
  const after = next.deployments;
  const diff: ConfigDiff = { added: [], removed: [], changed: [], unchanged: [], restartRequired: [] };
  for (const name of Object.keys(after)) {
    if (!(name in before)) diff.added.push(name);
    else if (canonical(before[name]) === canonical(after[name])) diff.unchanged.push(name);
    else diff.changed.push(name);
  }
  for (const name of Object.keys(before)) if (!(name in after)) diff.removed.push(name);
  for (const section of ['stateDir', 'logLevel', 'control', 'gateway', 'resources', 'backends'] as const) {
    if (canonical(running[section]) !== canonical(next[section])) diff.restartRequired.push(section);
  }
  return diff;
}
