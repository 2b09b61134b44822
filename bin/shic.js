#!/usr/bin/env node
// Launcher for the `shic` CLI. An installed package ships only dist/ (no src/, no tsx): it always runs the build.
// A git checkout has src/ and runs it through tsx, so a stale dist/ never hides an edit.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

if (!existsSync(source)) {
  await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
} else {
  // tsx compiles TypeScript, and the `shic-source` export condition makes the backends' self-imports of
  // `self-hosted-inference-core` resolve to src/ (hooks registered later run first, so this one adds the
  // condition before tsx resolves).
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  const addSourceCondition =
    'export async function resolve(specifier, context, next) {' +
    "  const conditions = context.conditions.includes('shic-source') ? context.conditions : [...context.conditions, 'shic-source'];" +
    '  return next(specifier, { ...context, conditions });' +
    '}';
  register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
  await import(pathToFileURL(source).href);
}
