import type { RuntimeSnapshot } from '../contracts/runtime-snapshot.js';
import type { DeploymentCatalog } from '../control/deployment-catalog.js';
import { UnknownModelError } from '../errors/error-catalog.js';

/** What `GET /v1/models` says of a deployment: its server's state. */
export type ModelState = 'loaded' | 'loading' | 'unloaded' | 'failed';

/** One entry of `GET /v1/models`: OpenAI's model object plus the gateway's fields. */
export interface ModelListEntry {
  id: string;
  object: 'model';
  /** Epoch seconds (OpenAI's field): when the instance became ready, else when the gateway started. */
  created: number;
  owned_by: string;
  state: ModelState;
  backend: string;
  aliases: string[];
  modelIdentity: string | null;
  /** The instance serving it, when one exists. */
  instanceId: string | null;
}

const STATE_RANK: Record<ModelState, number> = { loaded: 3, loading: 2, failed: 1, unloaded: 0 };

function stateOf(snapshot: RuntimeSnapshot): ModelState {
  switch (snapshot.state) {
    case 'ready':
    case 'degraded':
      return 'loaded';
    case 'starting':
      return 'loading';
    case 'failed':
      return 'failed';
    default:
      return 'unloaded';
  }
}

/**
 * Turns a request's `model` into a deployment name: a deployment's name first, then its `aliases`, then its
 * `modelIdentity` (the first deployment declaring it), then — with model references on — a deployment inferred
 * from the name's shape. Names are matched exactly.
 */
export class ModelRouter {
  readonly #catalog: DeploymentCatalog;
  readonly #routes = new Map<string, string>();
  #version = -1;
  readonly #createdAt = Math.floor(Date.now() / 1000);

  readonly #infer: ((model: string) => unknown) | undefined;

  /**
   * @param infer maps a model no deployment serves to a new deployment (model references), or returns
   *   undefined; an inferred deployment is added to the catalog under the model's name.
   */
  constructor(catalog: DeploymentCatalog, infer?: (model: string) => unknown) {
    this.#catalog = catalog;
    this.#infer = infer;
    this.#refresh();
  }

  // Names, then aliases, then model identities, from the catalog as it is now (it changes on `shic reload`).
  #refresh(): void {
    if (this.#version === this.#catalog.version) return;
    this.#version = this.#catalog.version;
    const catalog = this.#catalog;
    const names = catalog.names();
    this.#routes.clear();
    for (const name of names) this.#routes.set(name, name);
    for (const name of names) {
      for (const alias of catalog.get(name).aliases)
        if (!this.#routes.has(alias)) this.#routes.set(alias, name);
    }
    for (const name of names) {
      const identity = catalog.get(name).modelIdentity;
      if (identity && !this.#routes.has(identity)) this.#routes.set(identity, name);
    }
  }

  /** @throws UnknownModelError listing the deployment names. */
  resolve(model: string): string {
    this.#refresh();
    const name = this.#routes.get(model);
    if (name !== undefined) return name;
    const inferred = this.#infer?.(model);
    if (inferred === undefined) throw new UnknownModelError(model, this.#catalog.names());
    this.#catalog.add(model, inferred);
    this.#refresh();
    return model;
  }

  /** Every routable deployment with its state, from the kernel's instances (each deployment's best one). */
  list(instances: readonly RuntimeSnapshot[]): ModelListEntry[] {
    const best = new Map<string, RuntimeSnapshot>();
    for (const snapshot of instances) {
      const deployment = snapshot.metadata.deployment;
      if (typeof deployment !== 'string' || snapshot.state === 'stopped') continue;
      const current = best.get(deployment);
      if (!current || STATE_RANK[stateOf(snapshot)] > STATE_RANK[stateOf(current)])
        best.set(deployment, snapshot);
    }
    return this.#catalog.names().map((name) => {
      const d = this.#catalog.get(name);
      const snapshot = best.get(name);
      return {
        id: name,
        object: 'model' as const,
        created: snapshot?.readyAt ? Math.floor(snapshot.readyAt / 1000) : this.#createdAt,
        owned_by: 'shic',
        state: snapshot ? stateOf(snapshot) : 'unloaded',
        backend: this.#catalog.backendId(name),
        aliases: d.aliases,
        modelIdentity: d.modelIdentity ?? null,
        instanceId: snapshot?.instanceId ?? null,
      };
    });
  }
}
