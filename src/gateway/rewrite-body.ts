/** A deployment's request rewriting (shic.yaml `upstreamModel`, `setParams`, `stripParams`). */
export interface BodyRewrite {
  /** The `model` to send upstream; null keeps the client's. */
  model: string | null;
  set: Record<string, unknown>;
  strip: readonly string[];
}

/**
 * The body to send upstream: the client's bytes untouched when no rule changes anything (the common, fast
 * case), else the parsed body with `strip` removed, `set` applied and `model` replaced, re-serialized.
 */
export function rewriteBody(raw: Buffer, parsed: Record<string, unknown>, rules: BodyRewrite): Buffer {
  const renames = rules.model !== null && rules.model !== parsed.model;
  const strips = rules.strip.some((key) => key in parsed);
  const sets = Object.keys(rules.set).length > 0;
  if (!renames && !strips && !sets) return raw;
  const body: Record<string, unknown> = { ...parsed };
  for (const key of rules.strip) delete body[key];
  Object.assign(body, rules.set);
  if (rules.model !== null) body.model = rules.model;
  return Buffer.from(JSON.stringify(body));
}
