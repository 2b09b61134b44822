// Transpiles the TypeScript sources a worker needs into plain ESM under .cache/, so the worker runs on bare
// `node` and its RSS is not inflated by tsx's loader thread and esbuild service (~70 MB on this machine).
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Source trees the scale worker's imports reach (relative imports only; no self-reference by package name). */
const TREES = ['src', 'bench', 'test/support', 'test/fixtures'];

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

/**
 * Writes a JavaScript copy of `TREES` under `<root>/.cache/bench-js/` (`.ts` → `.js`, `.mjs` copied) and returns
 * the compiled path of `entry` (a path relative to the repository root, e.g. `bench/scale-worker.ts`).
 */
export async function compileForNode(entry: string): Promise<string> {
  const outRoot = path.join(ROOT, '.cache', 'bench-js');
  await rm(outRoot, { recursive: true, force: true });
  for (const tree of TREES) {
    for await (const file of walk(path.join(ROOT, tree))) {
      const relative = path.relative(ROOT, file);
      const target = path.join(outRoot, relative);
      if (file.endsWith('.mjs')) {
        await mkdir(path.dirname(target), { recursive: true });
        await copyFile(file, target);
      } else if (file.endsWith('.ts') && !file.endsWith('.d.ts')) {
        const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
          compilerOptions: {
            module: ts.ModuleKind.ESNext,
            target: ts.ScriptTarget.ES2023,
            verbatimModuleSyntax: false,
          },
          fileName: file,
        });
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target.replace(/\.ts$/, '.js'), outputText);
      }
    }
  }
  return path.join(outRoot, entry.replace(/\.ts$/, '.js'));
}
