#!/usr/bin/env node
// Launcher for the `shic` CLI: runs the build when there is one, else the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = new URL('../dist/src/cli/main.js', import.meta.url);

if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  // From source: tsx compiles TypeScript, and the `shic-source` export condition makes the backends' self-imports
  // of `self-hosted-inference-core` resolve to src/ (hooks registered later run first, so this one adds the
  // condition before tsx resolves).
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  const addSourceCondition =
    'export async function resolve(specifier, context, next) {' +
    "  const conditions = context.conditions.includes('shic-source') ? context.conditions : [...context.conditions, 'shic-source'];" +
    '  return next(specifier, { ...context, conditions });' +
    '}';
  register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
  await import(pathToFileURL(fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))).href);
}
