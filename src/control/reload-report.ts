import type { ConfigDiff } from './diff-config.js';

/** What `shic reload` did: the config diff and what it did to the instances. */
export interface ReloadReport extends ConfigDiff {
  /** The file re-read. */
  file: string | null;
  /** Instances of removed and changed deployments: stopped at once (`now`), or when their last lease ends. */
  retired: Array<{ instanceId: string; deployment: string; leases: number; now: boolean }>;
}
