import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The package root sits at a different depth from src/ (a checkout) and from dist/src/ (an installed package):
// walk up to the first package.json that is ours.
function findOwnPackageJson(from: string): { name?: string; version?: string } | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const parsed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (parsed.name === 'self-hosted-inference-core') return parsed;
    } catch {
      // no package.json here: keep walking up
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** This package's version, from its package.json (`0.0.0-unknown` if that cannot be read). */
export function packageVersion(): string {
  return findOwnPackageJson(dirname(fileURLToPath(import.meta.url)))?.version ?? '0.0.0-unknown';
}
