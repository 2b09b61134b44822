// A shic.yaml with one llama-cpp deployment, for the CLI tests that run the real `shic up`.
import { writeFile } from 'node:fs/promises';

/** What {@link writeLlamaConfig} writes. */
export interface LlamaConfigOptions {
  /** Deployment name. */
  name: string;
  modelPath: string;
  /** Omitted: the deployment names no binary (SHIC_LLAMA_SERVER, PATH or the cache find it). */
  binaryPath?: string;
  /** Extra deployment lines, e.g. `start: eager`, `maxLeases: 1`. */
  deployment?: string[];
  /** Extra boot spec lines, e.g. `ctxSize: 256`. */
  bootSpec?: string[];
}

/** Writes the config to `file` and returns `file`. */
export async function writeLlamaConfig(file: string, options: LlamaConfigOptions): Promise<string> {
  const lines = [
    'deployments:',
    `  ${options.name}:`,
    '    backend: llama-cpp',
    ...(options.deployment ?? []).map((line) => `    ${line}`),
    '    bootSpec:',
    `      model: ${options.modelPath}`,
    ...(options.binaryPath ? [`      binaryPath: ${options.binaryPath}`] : []),
    ...(options.bootSpec ?? []).map((line) => `      ${line}`),
    '',
  ];
  await writeFile(file, lines.join('\n'));
  return file;
}
