import type { Backend } from '../backend/backend.js';
import { parseInstanceSpec } from '../contracts/instance-spec.js';
import { DeploymentCatalog } from '../control/deployment-catalog.js';
import { InvalidConfigError } from '../errors/error-catalog.js';
import { type ConfigIssue, formatIssues, type LoadedConfig } from './load-config.js';

/**
 * Runs each deployment's backend `checkSpec` (boot spec fields, model file, binary) with nothing started, and
 * refuses the config when any finds a problem. Used by `shic config check` and by `shic up` before it starts.
 * @param backends the config's backends, by config `backend` name (as `resolveBackends` returns them).
 * @throws InvalidConfigError (`invalid_config`) naming each `deployments.<name>.<field>` with its YAML line.
 */
export async function checkDeployments(
  loaded: LoadedConfig,
  backends: Backend[],
  ids: Map<string, string>,
): Promise<void> {
  const catalog = new DeploymentCatalog(loaded.config.deployments, ids);
  const byId = new Map(backends.map((b) => [b.id, b]));
  const issues: ConfigIssue[] = [];
  await Promise.all(
    catalog.names().map(async (name) => {
      const deployment = catalog.get(name);
      const backend = byId.get(ids.get(deployment.backend) ?? deployment.backend);
      if (!backend?.checkSpec) return;
      for (const issue of await backend.checkSpec(parseInstanceSpec(catalog.instanceSpec(name)))) {
        const path = ['deployments', name, ...issue.field.split('.')];
        issues.push({
          path: path.join('.'),
          message: `${issue.code}: ${issue.message}`,
          ...(loaded.locate?.(path) ?? {}),
        });
      }
    }),
  );
  if (issues.length === 0) return;
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || a.path.localeCompare(b.path));
  const fileName = loaded.fileName ?? loaded.file ?? '<config>';
  throw new InvalidConfigError(formatIssues(fileName, issues), issues, { path: fileName });
}
