import { pathToFileURL } from 'node:url';
import { type Backend, isBackendV1 } from '../backend/backend.js';
import { KernelError } from '../errors/kernel-error.js';
import { resolveBackendModule } from './resolve-backend-module.js';
import type { ShicConfig } from './shic-config.js';

/** Built-in backends: config name → module (relative to this file, in src/ and in dist/) and factory. */
const BUILT_INS: Record<string, { module: string; factory: string }> = {
  'llama-cpp': { module: '../../backends/llama-cpp/index.js', factory: 'createLlamaCppBackend' },
  ollama: { module: '../../backends/ollama/index.js', factory: 'createOllamaBackend' },
  mlx: { module: '../../backends/mlx/index.js', factory: 'createMlxBackend' },
  'openai-compatible': {
    module: '../../backends/openai-compatible/index.js',
    factory: 'createOpenAiCompatibleBackend',
  },
};

/** The Backend specification this kernel implements. */
const SPECIFICATION_VERSION = 'v1';

/** The backends a config uses, and which registered id each config `backend` value maps to. */
export interface ResolvedBackends {
  backends: Backend[];
  /** Config `backend` value → the backend's registry id. */
  ids: Map<string, string>;
}

/** Options of {@link resolveBackends}. */
export interface ResolveBackendsOptions {
  /** The config file's directory: packages resolve from here first, relative paths against it. @default cwd */
  baseDir?: string;
  /** Tried after `baseDir` for packages. @default process.cwd() */
  cwd?: string;
  /** Further backends to load though no deployment names them yet (the gateway's model references). */
  extraBackends?: string[];
}

function unknownBackend(name: string, message: string, details: Record<string, unknown>, cause?: unknown) {
  return new KernelError('unknown_backend', message, {
    backend: name,
    details: { knownBackends: Object.keys(BUILT_INS), ...details },
    ...(cause === undefined ? {} : { cause }),
  });
}

async function importBackendModule(name: string, specifier: string, fromDirs: string[]) {
  const builtIn = BUILT_INS[specifier];
  if (builtIn) {
    return {
      module: (await import(new URL(builtIn.module, import.meta.url).href)) as Record<string, unknown>,
      factory: builtIn.factory,
      from: specifier,
    };
  }
  const found = resolveBackendModule(specifier, fromDirs);
  if ('tried' in found) {
    const local = specifier.startsWith('.') || specifier.startsWith('/');
    throw unknownBackend(
      name,
      `Backend "${name}" is not built in (${Object.keys(BUILT_INS).join(', ')}) and ${local ? `no file ${found.tried[0]} exists` : `package "${specifier}" was not found; tried ${found.tried.join(', ')}`}. ` +
        (local
          ? 'Fix the path (it is relative to the config file).'
          : `Install it next to the config (npm install ${specifier}) or fix the name.`),
      { specifier, tried: found.tried },
    );
  }
  try {
    return {
      module: (await import(pathToFileURL(found.file).href)) as Record<string, unknown>,
      factory: undefined,
      from: found.file,
    };
  } catch (error) {
    throw unknownBackend(
      name,
      `Backend "${name}" (${found.file}) failed to load: ${(error as Error).message}`,
      { specifier, file: found.file },
      error,
    );
  }
}

// A package exports a Backend, or a factory returning one, as `createBackend`, default or `backend`. A backend of
// another specification version is named as such, so an upgrade mismatch never reads as "no backend".
function pickBackend(
  name: string,
  from: string,
  mod: Record<string, unknown>,
  factoryName: string | undefined,
  options: Record<string, unknown> | undefined,
): Backend {
  const candidates = [factoryName && mod[factoryName], mod.createBackend, mod.default, mod.backend];
  for (const candidate of candidates) {
    if (!candidate) continue;
    let value: unknown;
    try {
      value =
        typeof candidate === 'function' ? (candidate as (o?: unknown) => unknown)(options ?? {}) : candidate;
    } catch (error) {
      if (KernelError.isInstance(error)) throw error;
      throw unknownBackend(
        name,
        `Backend "${name}" (${from}): its factory threw: ${(error as Error).message}`,
        { from },
        error,
      );
    }
    if (isBackendV1(value)) return value;
    const version = (value as { specificationVersion?: unknown } | null)?.specificationVersion;
    if (typeof version === 'string' && version !== SPECIFICATION_VERSION) {
      throw new KernelError(
        'incompatible',
        `Backend "${name}" (${from}) implements Backend specification "${version}", but this self-hosted-inference-core implements "${SPECIFICATION_VERSION}". Install a release of the package made for "${SPECIFICATION_VERSION}", or upgrade self-hosted-inference-core.`,
        {
          backend: name,
          details: { from, specificationVersion: version, supported: [SPECIFICATION_VERSION] },
        },
      );
    }
  }
  throw unknownBackend(
    name,
    `Backend "${name}" (${from}) exports no v1 backend: export a Backend, or a factory returning one, as createBackend or default.`,
    { from },
  );
}

/**
 * Loads every backend a config's deployments use, before anything starts: built-ins from this package; a name
 * from the `backends:` section as its `package` called with its `options`; anything else as a package or a
 * local module resolved from the config file's directory, then the current directory.
 * @throws KernelError `unknown_backend` naming what was tried and where; `incompatible` for a backend of
 *   another specification version.
 */
export async function resolveBackends(
  config: Pick<ShicConfig, 'deployments'> & Partial<Pick<ShicConfig, 'backends'>>,
  options: ResolveBackendsOptions = {},
): Promise<ResolvedBackends> {
  const cwd = options.cwd ?? process.cwd();
  const fromDirs = [...new Set([options.baseDir ?? cwd, cwd])];
  const names = [
    ...new Set([
      ...Object.values(config.deployments).map((d) => d.backend),
      ...(options.extraBackends ?? []),
    ]),
  ];
  const backends: Backend[] = [];
  const ids = new Map<string, string>();
  for (const name of names) {
    const entry = config.backends?.[name];
    const specifier = entry?.package ?? name;
    const loaded = await importBackendModule(name, specifier, fromDirs);
    const backend = pickBackend(name, loaded.from, loaded.module, loaded.factory, entry?.options);
    if (!backends.some((known) => known.id === backend.id)) backends.push(backend);
    ids.set(name, backend.id);
  }
  return { backends, ids };
}
