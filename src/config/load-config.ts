import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from 'yaml';
import type { z } from 'zod';
import { valueAt } from '../contracts/value-at.js';
import type { ContractIssue } from '../errors/error-catalog.js';
import { InvalidConfigError } from '../errors/error-catalog.js';
import { defaultStateDir } from '../kernel/kernel-options.js';
import { Secret } from '../secret/secret.js';
import { interpolateEnv } from './interpolate-env.js';
import { type ShicConfig, shicConfigSchema } from './shic-config.js';

/** A config issue with its place in the YAML source (1-based line and column). */
export interface ConfigIssue extends ContractIssue {
  line?: number;
  column?: number;
}

/** A validated config and where it came from. */
export interface LoadedConfig {
  config: ShicConfig;
  /** Absolute path of the file, when read from one. */
  file?: string;
  /** Absolute state directory (config `stateDir`, else `$SHIC_STATE_DIR`, else the default). */
  stateDir: string;
  /** Where a config path sits in the YAML source, when the config came from text. */
  locate?: (path: readonly PropertyKey[]) => { line: number; column: number } | undefined;
  /** How errors name the source (the file name as given). */
  fileName?: string;
  /** Directory relative paths in the config resolve against (the config file's), and backends resolve from. */
  baseDir: string;
}

/** Options of {@link parseConfigText} and {@link loadConfigFile}. */
export interface LoadConfigOptions {
  /** Variables for `${NAME}` interpolation. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Shown in error messages. @default '<config>' */
  fileName?: string;
  /** Directory relative paths (`stateDir`, `bootSpec.modelPath`, …) resolve against. @default process.cwd() */
  baseDir?: string;
}

/** Keys whose string values are credentials: wrapped in `Secret` so they never print. */
const SECRET_KEY = /^(api[-_]?key|token|password|secret|authorization|bearer)$/i;
/** Boot-spec keys holding file paths, resolved against the config file's directory. */
const PATH_KEYS = ['model', 'modelPath', 'mmproj', 'binaryPath', 'cwd'];
/** Most alias uses a config may expand (a guard against "billion laughs" alias bombs). */
const MAX_ALIAS_COUNT = 100;

// Walks the YAML AST along the path and returns the deepest node found (for a missing key: its parent's key).
function locate(
  contents: unknown,
  path: readonly PropertyKey[],
  atKey: boolean,
): [number, number] | undefined {
  let node = contents as Node | null | undefined;
  let range = node?.range ? [node.range[0], node.range[1]] : undefined;
  let keyRange = range;
  for (const [i, key] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === key);
      if (!pair) return keyRange as [number, number] | undefined;
      const keyNode = pair.key as Node | null;
      const last = i === path.length - 1;
      const target = (last && atKey) || !pair.value ? keyNode : (pair.value as Node);
      if (target?.range) range = [target.range[0], target.range[1]];
      if (keyNode?.range) keyRange = [keyNode.range[0], keyNode.range[1]];
      node = pair.value as Node | null;
    } else if (isSeq(node)) {
      const item = node.items[Number(key)] as Node | undefined;
      if (!item?.range) break;
      range = [item.range[0], item.range[1]];
      node = item;
    } else break;
  }
  return range as [number, number] | undefined;
}

function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (Array.isArray(value)) return `array(${value.length})`;
  return typeof value === 'object' ? 'object' : `${typeof value} ${String(value)}`;
}

function zodIssues(error: z.ZodError): { path: PropertyKey[]; message: string; atKey: boolean }[] {
  return error.issues.flatMap((issue): { path: PropertyKey[]; message: string; atKey: boolean }[] =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: [...issue.path, key],
          message: `unrecognized key "${key}": remove it or check its spelling`,
          atKey: true,
        }))
      : [{ path: issue.path, message: issue.message, atKey: false }],
  );
}

/** The message of an `invalid_config` error: one `file:line:column path: message` line per issue. */
export function formatIssues(fileName: string, issues: ConfigIssue[]): string {
  const lines = issues.map((i) => {
    const where = i.line === undefined ? '' : `:${i.line}:${i.column}`;
    return `  ${fileName}${where} ${i.path || '(root)'}: ${i.message}`;
  });
  return `Invalid config ${fileName}:\n${lines.join('\n')}`;
}

// Credentials become Secrets after validation, so the JSON Schema stays plain and no log or table shows them.
function wrapSecrets(node: unknown, underHeaders = false): unknown {
  if (Array.isArray(node)) return node.map((item) => wrapSecrets(item));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => {
      if (typeof v === 'string' && (underHeaders || SECRET_KEY.test(k))) return [k, new Secret(v)];
      return [k, wrapSecrets(v, k.toLowerCase() === 'headers')];
    }),
  );
}

function resolvePaths(spec: Record<string, unknown> | undefined, baseDir: string): void {
  if (!spec) return;
  for (const key of PATH_KEYS) {
    const value = spec[key];
    if (typeof value === 'string' && (value.startsWith('./') || value.startsWith('../'))) {
      spec[key] = resolve(baseDir, value);
    }
  }
}

/**
 * Parses and validates a `shic.yaml` text: YAML syntax, `${ENV}` interpolation, then the zod schema.
 * Credentials (`apiKey`, `token`, `headers.*`, …) come back as `Secret`s.
 * @throws InvalidConfigError (`invalid_config`) listing every issue with its YAML path, line and column.
 */
export function parseConfigText(text: string, options: LoadConfigOptions = {}): LoadedConfig {
  const fileName = options.fileName ?? '<config>';
  const baseDir = options.baseDir ?? process.cwd();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    const issues: ConfigIssue[] = doc.errors.map((e) => ({
      path: '',
      message: `YAML syntax: ${e.message.split('\n')[0]}`,
      ...at(e.pos[0]),
    }));
    throw new InvalidConfigError(formatIssues(fileName, issues), issues, { path: fileName });
  }
  const raw = toPlainValue(doc, fileName, at);
  const issues: ConfigIssue[] = [];
  const interpolated = interpolateEnv(raw, options.env ?? process.env);
  for (const issue of interpolated.issues) {
    const range = locate(doc.contents, issue.path, false);
    issues.push({ path: issue.path.join('.'), message: issue.message, ...(range ? at(range[0]) : {}) });
  }
  const result = shicConfigSchema.safeParse(interpolated.value);
  if (!result.success) {
    for (const issue of zodIssues(result.error)) {
      const range = locate(doc.contents, issue.path, issue.atKey);
      const key = String(issue.path.at(-1) ?? '');
      // Echo the raw YAML value (before interpolation, so never a secret), except under credential keys.
      const received = SECRET_KEY.test(key) ? undefined : valueAt(raw, issue.path);
      const echoed = issue.atKey || received === undefined || issue.message.includes('received');
      const message =
        received === undefined && !issue.atKey
          ? `${issue.message.replace(/, received undefined$/, '')} (missing: add it)`
          : `${issue.message}${echoed ? '' : ` (received ${preview(received)})`}`;
      issues.push({
        path: issue.path.map(String).join('.'),
        message,
        ...(range ? at(range[0]) : {}),
      });
    }
  }
  if (issues.length > 0) {
    throw new InvalidConfigError(formatIssues(fileName, issues), issues, { path: fileName });
  }
  const loaded = finishConfig(result.data as ShicConfig, baseDir, options.env ?? process.env);
  const locateIn = (path: readonly PropertyKey[]) => {
    const range = locate(doc.contents, path, false);
    return range ? at(range[0]) : undefined;
  };
  return { ...loaded, locate: locateIn, fileName };
}

// Aliases are checked before `toJS`: an unresolved one throws a ReferenceError there, a self-referencing
// one yields a circular value (a stack overflow later), and a bomb exhausts memory unless capped.
function toPlainValue(
  doc: Document,
  fileName: string,
  at: (offset: number) => { line: number; column: number },
): unknown {
  const issues: ConfigIssue[] = [];
  visit(doc, {
    Alias(_key, alias) {
      const target = alias.resolve(doc);
      const where = alias.range ? at(alias.range[0]) : {};
      if (target === undefined) {
        issues.push({
          path: '',
          message: `YAML alias *${alias.source} has no anchor &${alias.source} before it: define the anchor first or remove the alias`,
          ...where,
        });
      } else if (
        target.range &&
        alias.range &&
        alias.range[0] >= target.range[0] &&
        alias.range[1] <= target.range[1]
      ) {
        issues.push({
          path: '',
          message: `YAML alias *${alias.source} is inside the node anchored &${alias.source} (a circular structure): a config cannot refer to itself`,
          ...where,
        });
      }
    },
  });
  if (issues.length === 0) {
    try {
      return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0] ?? '';
      issues.push({
        path: '',
        message: /excessive alias count/i.test(reason)
          ? `YAML aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT} alias uses): write the values out or use fewer aliases`
          : `YAML aliases: ${reason}`,
      });
    }
  }
  throw new InvalidConfigError(formatIssues(fileName, issues), issues, { path: fileName });
}

// After validation: relative paths resolved, credentials wrapped, state directory chosen.
function finishConfig(config: ShicConfig, baseDir: string, env: NodeJS.ProcessEnv): LoadedConfig {
  for (const deployment of Object.values(config.deployments)) {
    resolvePaths(deployment.bootSpec, baseDir);
    if (deployment.bootSpec)
      deployment.bootSpec = wrapSecrets(deployment.bootSpec) as Record<string, unknown>;
    deployment.backendOptions = wrapSecrets(deployment.backendOptions) as Record<string, unknown>;
  }
  for (const entry of Object.values(config.backends)) {
    entry.options = wrapSecrets(entry.options) as Record<string, unknown>;
  }
  const stateDir = config.stateDir ? resolve(baseDir, config.stateDir) : defaultStateDir(env);
  return { config, stateDir, baseDir };
}

/**
 * Validates a config built in code (e.g. by `shic spawn` / `shic attach` from their flags).
 * @throws InvalidConfigError (`invalid_config`) naming each bad path.
 */
export function parseConfigObject(input: unknown, options: LoadConfigOptions = {}): LoadedConfig {
  const result = shicConfigSchema.safeParse(input);
  if (!result.success) {
    const issues: ConfigIssue[] = zodIssues(result.error).map((i) => ({
      path: i.path.map(String).join('.'),
      message: i.message,
    }));
    throw new InvalidConfigError(formatIssues(options.fileName ?? '<options>', issues), issues);
  }
  return finishConfig(result.data, options.baseDir ?? process.cwd(), options.env ?? process.env);
}

/**
 * Reads and validates a config file; relative paths in it resolve against the file's directory.
 * @throws InvalidConfigError (`invalid_config`) when the file is missing or invalid.
 */
export async function loadConfigFile(file: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const absolute = isAbsolute(file) ? file : resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const issue = { path: '', message: `cannot read ${absolute}: ${(error as Error).message}` };
    throw new InvalidConfigError(`Cannot read config ${absolute}: ${(error as Error).message}`, [issue], {
      path: absolute,
      cause: error,
    });
  }
  const loaded = parseConfigText(text, { baseDir: dirname(absolute), fileName: file, ...options });
  return { ...loaded, file: absolute };
}
