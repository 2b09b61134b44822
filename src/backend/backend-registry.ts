import { type BackendManifest, parseBackendManifest } from '../contracts/backend-manifest.js';
import {
  ContractValidationError,
  DuplicateBackendError,
  UnknownBackendError,
} from '../errors/error-catalog.js';
import { type Backend, isBackendV1 } from './backend.js';

/** A registered backend with its validated manifest. */
export interface RegisteredBackend {
  backend: Backend;
  manifest: BackendManifest;
}

/** Holds backends by id; every manifest is validated on the way in. */
export class BackendRegistry {
  readonly #entries = new Map<string, RegisteredBackend>();

  /**
   * Adds a backend.
   * @throws ContractValidationError (`invalid_manifest`) for a bad manifest or an id that differs from it.
   * @throws DuplicateBackendError (`duplicate_backend`) when the id is taken and `replace` is not set.
   */
  register(backend: Backend, options: { replace?: boolean } = {}): RegisteredBackend {
    if (!isBackendV1(backend)) {
      throw new ContractValidationError('invalid_manifest', 'Backend', [
        {
          path: 'specificationVersion',
          message:
            'not a v1 backend: expected specificationVersion "v1", a string id and startupPlan/probeReadiness/checkHealth functions',
          received: (backend as { specificationVersion?: unknown } | null)?.specificationVersion,
        },
      ]);
    }
    const manifest = parseBackendManifest(backend.manifest);
    if (manifest.backend !== backend.id) {
      throw new ContractValidationError('invalid_manifest', 'BackendManifest', [
        { path: 'backend', message: `must equal the backend id "${backend.id}"`, received: manifest.backend },
      ]);
    }
    if (this.#entries.has(backend.id) && !options.replace) throw new DuplicateBackendError(backend.id);
    const entry = { backend, manifest };
    this.#entries.set(backend.id, entry);
    return entry;
  }

  /** Removes a backend; returns false when it was not registered. */
  unregister(id: string): boolean {
    return this.#entries.delete(id);
  }

  /** Registered ids, sorted. */
  list(): string[] {
    return [...this.#entries.keys()].sort();
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** @throws UnknownBackendError (`unknown_backend`) listing the known ids. */
  get(id: string): RegisteredBackend {
    const entry = this.#entries.get(id);
    if (!entry) throw new UnknownBackendError(id, this.list());
    return entry;
  }

  /** @throws UnknownBackendError (`unknown_backend`). */
  getManifest(id: string): BackendManifest {
    return this.get(id).manifest;
  }
}
