import { type Backend, isBackendV1 } from '../backend/backend.js';
import { KernelError } from '../errors/kernel-error.js';
import type { ShicConfig } from './shic-config.js';

/** Built-in backends: config name → module (relative to this file, in src/ and in dist/) and factory. */
const BUILT_INS: Record<string, { module: string; factory: string }> = {
  'llama-cpp': { module: '../../backends/llama-cpp/index.js', factory: 'createLlamaCppBackend' },
  ollama: { module: '../../backends/ollama/index.js', factory: 'createOllamaBackend' },
  mlx: { module: '../../backends/mlx/index.js', factory: 'createMlxBackend' },
};

/** The backends a config uses, and which registered id each config `backend` value maps to. */
export interface ResolvedBackends {
  backends: Backend[];
  /** Config `backend` value → the backend's registry id. */
  ids: Map<string, string>;
}

async function importModule(specifier: string, name: string): Promise<Record<string, unknown>> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const known = Object.keys(BUILT_INS);
    throw new KernelError(
      'unknown_backend',
      `Backend "${name}" is not built in (${known.join(', ')}) and importing it as a package failed: ` +
        `${(error as Error).message}. Install the package (npm install ${name}) or fix the name.`,
      { backend: name, cause: error, details: { knownBackends: known } },
    );
  }
}

// A third-party package may export the backend itself, or a factory, as default or as `createBackend`.
function pickBackend(mod: Record<string, unknown>, factoryName: string | undefined): unknown {
  const candidates = [factoryName && mod[factoryName], mod.createBackend, mod.default, mod.backend];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const value = typeof candidate === 'function' ? (candidate as () => unknown)() : candidate;
    if (isBackendV1(value)) return value;
  }
  return undefined;
}

/**
 * Loads every backend a config names: built-ins from this package, anything else with `import(name)`.
 * @throws KernelError `unknown_backend` when a package is missing or exports no v1 backend.
 */
export async function resolveBackends(config: Pick<ShicConfig, 'deployments'>): Promise<ResolvedBackends> {
  const names = [...new Set(Object.values(config.deployments).map((d) => d.backend))];
  const backends: Backend[] = [];
  const ids = new Map<string, string>();
  for (const name of names) {
    const builtIn = BUILT_INS[name];
    const specifier = builtIn ? new URL(builtIn.module, import.meta.url).href : name;
    const backend = pickBackend(await importModule(specifier, name), builtIn?.factory);
    if (!backend) {
      throw new KernelError(
        'unknown_backend',
        `Package "${name}" exports no v1 backend: export a Backend (or a factory returning one) as default or as createBackend.`,
        { backend: name },
      );
    }
    const b = backend as Backend;
    if (!backends.some((known) => known.id === b.id)) backends.push(b);
    ids.set(name, b.id);
  }
  return { backends, ids };
}
