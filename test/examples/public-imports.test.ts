// Examples and guides must use the package the way its users do: only through its public entry points.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
};
const ENTRY_POINTS = new Set(
  Object.keys(PACKAGE.exports).map((key) => (key === '.' ? PACKAGE.name : `${PACKAGE.name}/${key.slice(2)}`)),
);
const CODE = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs']);
const FORBIDDEN_DIRS = ['src', 'backends'];

/** One module specifier found in a file. */
interface FoundImport {
  file: string;
  line: number;
  specifier: string;
}

// import … from 'x' | export … from 'x' | import 'x' | import('x') | require('x')
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])([^'"\n]+)\1/g;

/** Module specifiers in source text; in Markdown only inside fenced code blocks. */
function findImports(file: string, text: string): FoundImport[] {
  const code =
    extname(file) === '.md'
      ? text.replace(/^(?!```)[^\n]*$/gm, (line, offset: number) => {
          const fencesBefore = (text.slice(0, offset).match(/^```/gm) ?? []).length;
          return fencesBefore % 2 === 1 ? line : '';
        })
      : text;
  const found: FoundImport[] = [];
  for (const match of code.matchAll(SPECIFIER)) {
    const line = code.slice(0, match.index).split('\n').length;
    found.push({ file, line, specifier: match[2]! });
  }
  return found;
}

/** Why an import breaks the public-API rule, or undefined when it is fine. */
function privateImportReason(found: FoundImport): string | undefined {
  const { file, specifier } = found;
  if (specifier === PACKAGE.name || specifier.startsWith(`${PACKAGE.name}/`)) {
    return ENTRY_POINTS.has(specifier)
      ? undefined
      : `not an entry point of the package (${[...ENTRY_POINTS].join(', ')})`;
  }
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
    return FORBIDDEN_DIRS.some((dir) => specifier.startsWith(`${dir}/`))
      ? 'a path into the sources'
      : undefined;
  }
  if (extname(file) === '.md') {
    const parts = specifier.split('/');
    return parts.some((part) => FORBIDDEN_DIRS.includes(part))
      ? 'a relative path into src/ or backends/'
      : undefined;
  }
  const target = relative(ROOT, resolve(dirname(join(ROOT, file)), specifier));
  const top = target.split(sep)[0];
  return top && FORBIDDEN_DIRS.includes(top) ? `resolves to ${target}` : undefined;
}

function listFiles(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(join(ROOT, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : listFiles(path);
    return CODE.has(extname(entry.name)) || extname(entry.name) === '.md' ? [path] : [];
  });
}

describe('examples and guides use only public entry points', () => {
  const files = [...listFiles('examples'), ...listFiles('guides')];
  const imports = files.flatMap((file) => findImports(file, readFileSync(join(ROOT, file), 'utf8')));

  it('finds the imports of every example and guide (the scan is not vacuous)', () => {
    expect(files).toContain(join('examples', 'custom-backend', 'command-backend.ts'));
    expect(imports).toContainEqual(
      expect.objectContaining({
        file: join('examples', 'custom-backend', 'command-backend.ts'),
        specifier: 'self-hosted-inference-core',
      }),
    );
  });

  it('has no import from a src/ or backends/ path, nor a deep import into the package', () => {
    const offenders = imports
      .map((found) => ({ found, reason: privateImportReason(found) }))
      .filter(({ reason }) => reason !== undefined)
      .map(({ found, reason }) => `${found.file}:${found.line} imports "${found.specifier}": ${reason}`);
    expect(offenders, `use ${[...ENTRY_POINTS].join(' / ')} instead`).toEqual([]);
  });

  it('would catch each kind of private import', () => {
    const sample = [
      "import { createKernel } from '../src/index.js';",
      "export { x } from '../backends/ollama/index.js';",
      "const m = await import('self-hosted-inference-core/src/kernel/kernel.js');",
      "import 'self-hosted-inference-core/backends/mlx/index.js';",
      "import { ok } from 'self-hosted-inference-core/testing';",
      "import { local } from './index.js';",
    ].join('\n');
    const reasons = findImports(join('examples', 'sample.ts'), sample).map(privateImportReason);
    expect(reasons.map((r) => r !== undefined)).toEqual([true, true, true, true, false, false]);
    const markdown = [
      'Text mentioning from "../src/x.js" outside code.',
      '```ts',
      "import { k } from '../src/index.js';",
      '```',
    ].join('\n');
    expect(findImports(join('guides', 'sample.md'), markdown)).toEqual([
      { file: join('guides', 'sample.md'), line: 3, specifier: '../src/index.js' },
    ]);
  });
});
