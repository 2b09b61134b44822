// The `$ ` command lines of a Markdown guide, as a user would type them: docs tests run them verbatim.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

/** The `$ ` lines of the first fenced block after `marker` in a Markdown file (from the repo root), comments removed, split into argv. */
export function commandLines(file: string, marker: string): string[][] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const after = text.slice(text.indexOf(marker));
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(after)?.[1] ?? '';
  return block
    .split('\n')
    .filter((line) => line.startsWith('$ '))
    .map((line) =>
      line
        .slice(2)
        .replace(/\s+#.*$/, '')
        .trim()
        .split(/\s+/),
    );
}
