// Every ```ts block of guides/*.md is a standalone module that must type-check against the public entry
// points (blocks fenced as ```ts no-check are deliberately partial and skipped). Blocks fenced as ```ts run
// need nothing but Node and are also executed and must exit 0. Snippets are written under .cache/ (gitignored)
// and checked by the real TypeScript compiler with a tsconfig extending the root one. A block whose first line
// is `// <name>.ts` is written under that name, so later blocks of the same guide can import it.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const GUIDES = join(ROOT, 'guides');
const OUT = join(ROOT, '.cache', 'guide-snippets');

/** One fenced TypeScript block of a guide. */
interface Snippet {
  guide: string;
  /** 1-based line of the opening fence. */
  line: number;
  info: string;
  code: string;
  file: string;
}

/** The ```ts blocks of a Markdown text, with their fence info (`ts`, `ts run`, `ts no-check`). */
function extractTsBlocks(markdown: string): Array<{ line: number; info: string; code: string }> {
  const blocks: Array<{ line: number; info: string; code: string }> = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)(\s.*)?$/.exec(lines[i] ?? '');
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^```\s*$/.test(lines[j] ?? '')) body.push(lines[j++] ?? '');
    blocks.push({ line: i + 1, info: (lines[i] ?? '').slice(3).trim(), code: `${body.join('\n')}\n` });
    i = j;
  }
  return blocks;
}

function collectSnippets(): Snippet[] {
  const snippets: Snippet[] = [];
  for (const guide of readdirSync(GUIDES)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    for (const block of extractTsBlocks(readFileSync(join(GUIDES, guide), 'utf8'))) {
      const named = /^\/\/ ([\w.-]+\.ts)\b/.exec(block.code)?.[1];
      const file = join(OUT, guide.replace(/\.md$/, ''), named ?? `L${block.line}.ts`);
      snippets.push({ guide, ...block, file });
    }
  }
  return snippets;
}

const snippets = collectSnippets();
const checked = snippets.filter((s) => !s.info.includes('no-check'));
let diagnostics = new Map<string, string[]>();

beforeAll(() => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  // `export {}` makes each snippet a module, so top-level await and duplicate names across snippets are fine.
  for (const s of checked) {
    mkdirSync(dirname(s.file), { recursive: true });
    writeFileSync(s.file, `${s.code}export {};\n`);
  }
  writeFileSync(
    join(OUT, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { rootDir: '../..' },
      include: ['**/*.ts'],
    }),
  );
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(OUT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error('could not read the generated tsconfig');
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  diagnostics = new Map();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file?.fileName ?? '(global)';
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
    const text = `${where ? `line ${where.line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    diagnostics.set(file, [...(diagnostics.get(file) ?? []), text]);
  }
}, 120_000);

describe('guide snippets', () => {
  it('finds TypeScript snippets in the guides, and only a few deliberately partial ones', () => {
    expect(checked.length).toBeGreaterThanOrEqual(15);
    expect(snippets.length - checked.length).toBeLessThanOrEqual(3);
  });

  it('reports no compiler diagnostics outside the snippets themselves', () => {
    const outside = [...diagnostics.keys()].filter((f) => !f.startsWith(OUT));
    expect(outside.map((f) => `${f}: ${diagnostics.get(f)?.join('; ')}`)).toEqual([]);
  });

  it.each(checked.map((s) => [`${s.guide}:${s.line}`, s] as const))('%s type-checks', (_name, snippet) => {
    expect(diagnostics.get(snippet.file) ?? [], snippet.code).toEqual([]);
  });

  const runnable = checked.filter((s) => /\brun\b/.test(s.info));
  it.each(runnable.map((s) => [`${s.guide}:${s.line}`, s] as const))(
    '%s runs and exits 0',
    async (_name, snippet) => {
      const result = await execa(
        process.execPath,
        ['--import', 'tsx', '--conditions=shic-source', snippet.file],
        {
          cwd: ROOT,
          reject: false,
          timeout: 60_000,
          stdin: 'ignore',
        },
      );
      expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    },
    90_000,
  );
});
