import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StartupPlan } from '../contracts/startup-plan.js';
import { exposeSecret, Secret } from '../secret/secret.js';

/** The parts of a plan that may hold a credential: the process's environment and the endpoint's headers. */
export interface PlanSecrets {
  env: Record<string, string>;
  headers: Record<string, string>;
  /** Headers that were Secrets (they come back as Secrets). */
  secretHeaders: string[];
}

/**
 * A plan as the store may keep it: the environment and the headers (where API keys live, e.g. llama-server's
 * `LLAMA_API_KEY` and its `Authorization` header) are split off into {@link PlanSecrets}.
 */
export function splitPlanSecrets(plan: StartupPlan): { plan: Record<string, unknown>; secrets: PlanSecrets } {
  const headers: Record<string, string> = {};
  const secretHeaders: string[] = [];
  for (const [name, value] of Object.entries(plan.endpointTemplate.headers)) {
    headers[name] = exposeSecret(value);
    if (Secret.isInstance(value)) secretHeaders.push(name);
  }
  const publicPlan: Record<string, unknown> = {
    ...plan,
    endpointTemplate: { ...plan.endpointTemplate, headers: {} },
    ...(plan.transport ? { transport: { ...plan.transport, env: {} } } : {}),
  };
  return { plan: publicPlan, secrets: { env: { ...(plan.transport?.env ?? {}) }, headers, secretHeaders } };
}

/** The plan {@link splitPlanSecrets} split, whole again (to be validated like any backend's plan). */
export function joinPlanSecrets(
  plan: Record<string, unknown>,
  secrets: PlanSecrets,
): Record<string, unknown> {
  const template = plan.endpointTemplate as Record<string, unknown>;
  const headers = Object.fromEntries(
    Object.entries(secrets.headers).map(([name, value]) => [
      name,
      secrets.secretHeaders.includes(name) ? new Secret(value) : value,
    ]),
  );
  const transport = plan.transport as Record<string, unknown> | undefined;
  return {
    ...plan,
    endpointTemplate: { ...template, headers },
    ...(transport ? { transport: { ...transport, env: secrets.env } } : {}),
  };
}

/**
 * Plan secrets of the instances a daemon may hand over, one file each under `<stateDir>/secrets/` (directory
 * 0700, files 0600): readable by the daemon's user only, never in the database, a log or an event.
 */
export class PlanSecretFiles {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'secrets');
  }

  #file(instanceId: string): string {
    return path.join(this.dir, `${instanceId.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
  }

  write(instanceId: string, secrets: PlanSecrets): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const file = this.#file(instanceId);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(secrets), { mode: 0o600 });
    renameSync(tmp, file);
  }

  /** The secrets of an instance; undefined when there is no (readable, well-formed) file. */
  read(instanceId: string): PlanSecrets | undefined {
    try {
      const value = JSON.parse(readFileSync(this.#file(instanceId), 'utf8')) as PlanSecrets;
      if (typeof value.env !== 'object' || typeof value.headers !== 'object') return undefined;
      return { env: value.env, headers: value.headers, secretHeaders: value.secretHeaders ?? [] };
    } catch {
      return undefined;
    }
  }

  remove(instanceId: string): void {
    rmSync(this.#file(instanceId), { force: true });
  }
}
