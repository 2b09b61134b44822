// package.json as a consumer's npm sees it: runtime dependencies are ranges (so a consumer can share one zod or
// undici with us; the lockfile still pins CI), each is really imported by shipped code, and test-only tools are
// devDependencies.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  engines: { node: string };
};

function shippedSources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return shippedSources(path);
    return /\.(ts|mjs)$/.test(entry.name) ? [readFileSync(join(ROOT, path), 'utf8')] : [];
  });
}

describe('package.json', () => {
  it('declares runtime dependencies as ranges, each imported by shipped code', () => {
    const code = [...shippedSources('src'), ...shippedSources('backends')].join('\n');
    for (const [name, range] of Object.entries(PKG.dependencies)) {
      expect(range, name).toMatch(/^[\^~]\d/);
      expect(code, `${name} is a dependency but no file in src/ or backends/ imports it`).toMatch(
        new RegExp(`from '${name}(/[^']*)?'|import\\('${name}(/[^']*)?'\\)`),
      );
    }
  });

  it('keeps test-only tools out of the runtime dependencies', () => {
    for (const name of ['p-wait-for', 'vitest', 'fast-check', 'tsx', 'typescript', 'openai']) {
      expect(PKG.dependencies, name).not.toHaveProperty(name);
    }
  });
});
