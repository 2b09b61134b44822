import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** Where a backend module was found, or every place that was tried. */
export type ModuleResolution = { file: string } | { tried: string[] };

const CONDITIONS = ['import', 'node', 'default'];

// Node's export-map rules for the conditions an ESM `import` uses: the first matching key in object order wins.
function pickTarget(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const item of target) {
      const picked = pickTarget(item);
      if (picked) return picked;
    }
    return undefined;
  }
  if (target && typeof target === 'object') {
    for (const [key, value] of Object.entries(target)) {
      if (!CONDITIONS.includes(key)) continue;
      const picked = pickTarget(value);
      if (picked) return picked;
    }
  }
  return undefined;
}

function entryOf(root: string, subpath: string): string | undefined {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports?: unknown;
    main?: string;
  };
  if (pkg.exports !== undefined) {
    const exportsMap = pkg.exports as Record<string, unknown>;
    const sugar =
      typeof pkg.exports === 'string' ||
      Array.isArray(pkg.exports) ||
      !Object.keys(exportsMap).some((k) => k.startsWith('.'));
    const target = sugar ? (subpath === '.' ? pkg.exports : undefined) : exportsMap[subpath];
    const file = pickTarget(target);
    return file ? join(root, file) : undefined;
  }
  if (subpath !== '.') return join(root, subpath);
  return join(root, pkg.main ?? 'index.js');
}

/** `@scope/name/sub` → `@scope/name` and `./sub`. */
function splitSpecifier(specifier: string): { name: string; subpath: string } {
  const parts = specifier.split('/');
  const count = specifier.startsWith('@') ? 2 : 1;
  const rest = parts.slice(count).join('/');
  return { name: parts.slice(0, count).join('/'), subpath: rest ? `./${rest}` : '.' };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the module a `backend:` / `package:` value names, as Node would resolve an `import` from `fromDirs`
 * in order: a path (`./x.js`, `../x.mjs`, `/abs/x.js`) against the first directory; a package by walking up
 * each directory's `node_modules` and following the package's `exports` (conditions import, node, default)
 * or `main`.
 */
export function resolveBackendModule(specifier: string, fromDirs: string[]): ModuleResolution {
  if (specifier.startsWith('./') || specifier.startsWith('../') || isAbsolute(specifier)) {
    const file = isAbsolute(specifier) ? specifier : resolve(fromDirs[0] ?? process.cwd(), specifier);
    return isFile(file) ? { file } : { tried: [file] };
  }
  const { name, subpath } = splitSpecifier(specifier);
  const tried: string[] = [];
  for (const from of fromDirs) {
    for (let dir = resolve(from); ; dir = dirname(dir)) {
      const root = join(dir, 'node_modules', name);
      if (!tried.includes(root)) tried.push(root);
      if (existsSync(join(root, 'package.json'))) {
        const file = entryOf(root, subpath);
        if (file && isFile(file)) return { file };
      }
      if (dirname(dir) === dir) break;
    }
  }
  return { tried };
}
