import path from 'node:path';
import { errorMessage, type InstanceSpec, KernelError, type SpecIssue } from 'self-hosted-inference-core';
import type { LlamaCppBootSpec } from './boot-spec.js';
import { checkGgufModel } from './check-gguf-model.js';
import { checkLlamaServerBinary } from './check-llama-server-binary.js';

// One issue per bad boot spec field (the error lists them in details.issues), or one for the whole error.
function bootSpecIssues(error: unknown): SpecIssue[] {
  if (!KernelError.isInstance(error))
    return [{ field: 'bootSpec', code: 'invalid_boot_spec', message: errorMessage(error) }];
  const issues = error.details.issues;
  if (!Array.isArray(issues)) return [{ field: 'bootSpec', code: error.code, message: error.message }];
  return issues.map((issue: { path?: string; message?: string; received?: string }) => ({
    field: issue.path ? `bootSpec.${issue.path}` : 'bootSpec',
    code: error.code,
    message: `${issue.message ?? 'invalid'}${issue.received && issue.received !== 'nothing' ? ` (received ${issue.received})` : ''}`,
  }));
}

async function issueOf(check: Promise<unknown>, field: string): Promise<SpecIssue[]> {
  try {
    await check;
    return [];
  } catch (error) {
    const code = KernelError.isInstance(error) ? error.code : 'invalid_boot_spec';
    return [{ field, code, message: errorMessage(error) }];
  }
}

/**
 * The static checks of a llama-cpp spec, with nothing spawned: the boot spec's fields, the model file (exists,
 * is GGUF) and the binary (found, runs `--version`). `normalize` is the backend's own spec → boot spec step.
 */
export async function checkLlamaCppSpec(
  spec: InstanceSpec,
  normalize: (spec: InstanceSpec) => LlamaCppBootSpec,
  versionTimeoutMs?: number,
): Promise<SpecIssue[]> {
  let boot: Pick<LlamaCppBootSpec, 'model' | 'binaryPath'> | undefined;
  let fieldIssues: SpecIssue[] = [];
  try {
    boot = normalize(spec);
  } catch (error) {
    fieldIssues = bootSpecIssues(error);
    // Still check the files the spec names, so one run reports every mistake.
    const raw = spec.bootSpec as { model?: unknown; binaryPath?: unknown } | undefined;
    if (typeof raw?.model === 'string') boot = { model: path.resolve(raw.model), binaryPath: '' };
    if (boot && typeof raw?.binaryPath === 'string') boot.binaryPath = raw.binaryPath;
  }
  const timeout = versionTimeoutMs === undefined ? {} : { timeoutMs: versionTimeoutMs };
  const [model, binary] = await Promise.all([
    boot && !fieldIssues.some((i) => i.field === 'bootSpec.model')
      ? issueOf(checkGgufModel(boot.model), 'bootSpec.model')
      : [],
    boot?.binaryPath && !fieldIssues.some((i) => i.field === 'bootSpec.binaryPath')
      ? issueOf(checkLlamaServerBinary(boot.binaryPath, timeout), 'bootSpec.binaryPath')
      : [],
  ]);
  return [...fieldIssues, ...model, ...binary];
}
