/** A reference to an unset environment variable, with where it was found. */
export interface InterpolationIssue {
  /** Path of the string that holds the reference, e.g. `['deployments', 'tiny', 'bootSpec', 'apiKey']`. */
  path: (string | number)[];
  message: string;
}

/** The interpolated value, and the unset variables it referenced. */
export interface InterpolationResult<T> {
  value: T;
  issues: InterpolationIssue[];
}

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function interpolateString(
  text: string,
  env: NodeJS.ProcessEnv,
  path: (string | number)[],
  issues: InterpolationIssue[],
): string {
  return text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    const value = env[name!];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    issues.push({
      path,
      message: `environment variable ${name} is not set: export it, or write \${${name}:-default} for a default`,
    });
    return '';
  });
}

/**
 * Replaces `${NAME}` (and `${NAME:-default}`) in every string of a parsed document with the environment's
 * value; `$$` is a literal `$`. Values are never echoed in issues, only variable names.
 */
export function interpolateEnv<T>(value: T, env: NodeJS.ProcessEnv = process.env): InterpolationResult<T> {
  const issues: InterpolationIssue[] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') return interpolateString(node, env, path, issues);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { value: walk(value, []) as T, issues };
}
