import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import type { modelsFolderDefaultsSchema } from '../config/shic-config.js';

/** Defaults of the deployments a models folder creates (shic.yaml `gateway.modelDefaults`). */
export type ModelsFolderDefaults = z.output<typeof modelsFolderDefaultsSchema>;

/** A deployment of a models folder, as shic.yaml would write it. */
export interface FolderDeployment {
  backend: 'llama-cpp';
  start: 'on-demand';
  bootSpec: Record<string, unknown>;
  idleShutdownMs?: number | null;
  maxLeases?: number;
  metadata: { modelsDir: string };
}

const SHARD = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;
const MMPROJ = /mmproj/i;

/** A deployment name from a file or folder name: what the schema allows, other characters become `-`. */
function deploymentName(stem: string): string {
  return stem.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'model';
}

function stemOf(file: string): string | undefined {
  const shard = SHARD.exec(file);
  if (shard) return shard[2] === '00001' ? shard[1] : undefined; // later shards load with the first
  return file.toLowerCase().endsWith('.gguf') ? file.slice(0, -'.gguf'.length) : undefined;
}

/**
 * The llama-cpp deployments of a models folder, like llama-server's `--models-dir`: each `*.gguf` is a model
 * named after its file (`qwen-7b.gguf` → `qwen-7b`); of a split model (`name-00001-of-00003.gguf`) the first
 * part is loaded and the rest ignored; a sub-folder holding one model is a model named after the folder, and an
 * `mmproj*.gguf` file in it is passed as `mmproj`. At the top level, `mmproj-<name>.gguf` goes with `<name>`.
 * Deployments start on demand, with `defaults` for the boot spec and policies.
 */
export async function scanModelsFolder(
  dir: string,
  defaults: ModelsFolderDefaults = { bootSpec: {} },
): Promise<Record<string, FolderDeployment>> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found = new Map<string, { model: string; mmproj?: string }>();
  const projectors = new Map<string, string>();
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = (await readdir(full, { withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => e.name);
      const models = inner.filter((f) => stemOf(f) !== undefined && !MMPROJ.test(f)).sort();
      if (models.length === 0) continue;
      const mmproj = inner.find((f) => MMPROJ.test(f) && f.toLowerCase().endsWith('.gguf'));
      found.set(deploymentName(entry.name), {
        model: path.join(full, models[0]!),
        ...(mmproj ? { mmproj: path.join(full, mmproj) } : {}),
      });
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      const stem = stemOf(entry.name);
      if (stem === undefined) continue;
      if (MMPROJ.test(entry.name)) {
        projectors.set(stem.replace(/^mmproj[-_.]?/i, '').replace(/[-_.]?mmproj$/i, ''), full);
      } else found.set(deploymentName(stem), { model: full });
    }
  }
  for (const [stem, mmproj] of projectors) {
    const entry = found.get(deploymentName(stem));
    if (entry && !entry.mmproj) entry.mmproj = mmproj;
  }
  const deployments: Record<string, FolderDeployment> = {};
  for (const [name, files] of found) {
    deployments[name] = {
      backend: 'llama-cpp',
      start: 'on-demand',
      bootSpec: {
        ...defaults.bootSpec,
        model: files.model,
        ...(files.mmproj ? { mmproj: files.mmproj } : {}),
      },
      ...(defaults.idleShutdownMs === undefined ? {} : { idleShutdownMs: defaults.idleShutdownMs }),
      ...(defaults.maxLeases === undefined ? {} : { maxLeases: defaults.maxLeases }),
      metadata: { modelsDir: dir },
    };
  }
  return deployments;
}
